"""Resource consumption from the network side: slow and greedy clients.

  python3 tests/system/consumption.py

- A client that sends its request head a byte at a time is cut off (408 or
  a closed connection) within 7 s, the request timeout being 5 s.
- Three hundred such clients at once do not stop a normal request from
  being answered within 2 s.
- An idle keep-alive connection is closed by the server.
- A 64 KiB header, or 200 headers, get a 4xx, never a 5xx, and the server
  stays healthy.
"""

import os
import socket
import sys
import time

import harness
from harness import check


def connect(server):
    return socket.create_connection(("127.0.0.1", server.port), timeout=10)


def closed_within(sock, seconds):
    """Seconds until the server closes (or answers 408 on) this socket."""
    started = time.monotonic()
    sock.settimeout(0.5)
    while time.monotonic() - started < seconds:
        try:
            data = sock.recv(4096)
            if not data or b" 408 " in data.split(b"\r\n", 1)[0]:
                return time.monotonic() - started
        except socket.timeout:
            pass
        except OSError:
            return time.monotonic() - started
        try:
            sock.send(b"X")
        except OSError:
            return time.monotonic() - started
    return None


def main():
    harness.build()
    with harness.Workspace() as work:
        server = work.server(f"sqlite://{os.path.join(work.path, 'c.db')}", env={"SEED_DEMO": "true"}).start()

        slow = connect(server)
        slow.send(b"GET /api/v1/articles HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
        took = closed_within(slow, 7)
        check(took is not None, "a byte-at-a-time client was not cut off within 7 s")
        slow.close()

        crowd = []
        for _ in range(300):
            s = connect(server)
            s.send(b"GET /api/v1/articles HTTP/1.1\r\nHost: localhost\r\n")
            crowd.append(s)
        started = time.monotonic()
        r = server.call("GET", "/api/v1/articles?limit=5", timeout=5)
        answered = time.monotonic() - started
        check(r.status == 200 and answered < 2, f"with 300 slow clients: {r} in {answered:.2f} s")
        for s in crowd:
            s.close()

        idle = connect(server)
        idle.send(b"GET /health/live HTTP/1.1\r\nHost: localhost\r\n\r\n")
        idle.settimeout(2)
        check(b" 200 " in idle.recv(4096), "keep-alive request answered")
        idle.settimeout(10)
        started = time.monotonic()
        try:
            while idle.recv(4096):
                pass
        except OSError:
            pass
        idle_closed = time.monotonic() - started
        check(idle_closed < 9, f"idle keep-alive connection held {idle_closed:.1f} s")
        idle.close()

        for name, headers in [
            ("a 64 KiB header", {"x-big": "a" * 65536}),
            ("200 headers", {f"x-h{i}": "v" for i in range(200)}),
        ]:
            try:
                r = server.call("GET", "/api/v1/articles", headers=headers)
                check(400 <= r.status < 500, f"{name}: {r}")
                outcome = str(r.status)
            except OSError as e:
                outcome = f"connection closed ({e.__class__.__name__})"
            check(server.call("GET", "/health/ready").status == 200, f"healthy after {name}")
            print(f"consumption: {name} -> {outcome}")
        check(server.process.poll() is None, "the server died")
        print(
            f"consumption: slow client cut off after {took:.1f} s; 300 slow clients, a normal request "
            f"answered in {answered:.2f} s; idle keep-alive closed after {idle_closed:.1f} s"
        )


if __name__ == "__main__":
    sys.exit(main())
