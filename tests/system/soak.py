"""Soak: a bounded mixed load at a fixed rate for minutes.

  python3 tests/system/soak.py sqlite|postgres [seconds]   (default 180)

Eight clients share a fixed rate of 160 requests a second on 127.0.0.1:
list and article reads, searches, metered reads with meter tokens, logins,
and editorial writes (new topics, concurrent edits of one article). Passes
when every answer is a 200 or 201 (no 5xx, no dropped connection, and no
4xx, as every request is valid), and memory is flat: the server's peak RSS in
the last third of the run is within 10% (+8 MiB) of its peak in the first.
"""

import itertools
import os
import sys
import threading
import time
from urllib.parse import quote

import harness
from harness import check

RATE = 160
CLIENTS = 8


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main():
    backend = sys.argv[1] if len(sys.argv) > 1 else "sqlite"
    seconds = int(sys.argv[2]) if len(sys.argv) > 2 else 180
    harness.build()
    with harness.Workspace() as work:
        url = f"sqlite://{os.path.join(work.path, 'soak.db')}" if backend == "sqlite" else work.postgres().url
        server = work.server(url, env={"SEED_DEMO": "true"}).start()
        admin = server.create_admin()["access_token"]
        for n in range(CLIENTS):
            check(server.register(f"soak{n}@example.com").status == 201, "register")
        slugs = [a["slug"] for a in server.call("GET", "/api/v1/articles?limit=100").json()["data"]]
        editable = slugs[0]

        lock = threading.Lock()
        counts = {}
        failures = []
        end = time.monotonic() + seconds
        interval = CLIENTS / RATE

        def client(n):
            token = None
            steps = itertools.count()
            next_at = time.monotonic()
            while True:
                next_at += interval
                now = time.monotonic()
                if now >= end:
                    return
                if next_at > now:
                    time.sleep(next_at - now)
                i = next(steps)
                kind = i % 20
                try:
                    if kind < 6:
                        r = server.call("GET", f"/api/v1/articles?limit=20&topic={['energy', 'security', 'economy'][i % 3]}")
                    elif kind < 10:
                        r = server.call("GET", f"/api/v1/articles/{slugs[i % len(slugs)]}")
                    elif kind < 13:
                        q = quote(["harbour", "grid -coal", "ice*"][i % 3])
                        r = server.call("GET", f"/api/v1/articles?q={q}&limit=10")
                    elif kind < 16:
                        headers = {"x-meter-token": token} if token else {}
                        r = server.call("GET", f"/api/v1/articles/{slugs[(i // 20) % len(slugs)]}", headers=headers)
                        token = r.header("x-meter-token") or token
                    elif kind < 17:
                        r = server.call("GET", "/api/v1/home")
                    elif kind < 18:
                        r = server.call("POST", "/api/v1/auth/login",
                                        {"email": f"soak{n}@example.com", "password": harness.PASSWORD})
                    elif kind < 19:
                        r = server.call("POST", "/api/v1/topics",
                                        {"slug": f"soak-{n}-{i}", "name": f"Soak {n} {i}"}, token=admin)
                    else:
                        r = server.call("PATCH", f"/api/v1/articles/{editable}",
                                        {"dek": f"Edited by client {n}, step {i}."}, token=admin)
                    with lock:
                        counts[r.status] = counts.get(r.status, 0) + 1
                        if r.status >= 500:
                            failures.append(f"{r.status}: {r.body[:200]!r}")
                except Exception as e:  # noqa: BLE001 - every failure is a finding
                    with lock:
                        failures.append(repr(e))

        threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
        for t in threads:
            t.start()
        samples = []
        started = time.monotonic()
        while any(t.is_alive() for t in threads):
            samples.append((time.monotonic() - started, rss_kib(server.process.pid)))
            time.sleep(2)
        for t in threads:
            t.join()

        total = sum(counts.values())
        third = seconds / 3
        first = max(kib for at, kib in samples if at <= third)
        last = max(kib for at, kib in samples if at >= 2 * third)
        check(not failures, f"{len(failures)} failures, e.g. {failures[:5]}")
        # Every request sent is valid: anything but 200 and 201 is a finding.
        check(set(counts) <= {200, 201}, f"unexpected statuses: {counts}")
        check(total >= RATE * seconds * 0.9, f"only {total} requests sent in {seconds} s")
        check(last <= first * 1.10 + 8 * 1024, f"memory grew: peak {first} KiB in the first third, {last} KiB in the last")
        print(
            f"soak ({backend}): {total} requests in {seconds} s ({total / seconds:.0f}/s), statuses {dict(sorted(counts.items()))}; "
            f"no 5xx; peak RSS {first // 1024} MiB first third, {last // 1024} MiB last third"
        )


if __name__ == "__main__":
    sys.exit(main())
