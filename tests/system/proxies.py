"""Behind a proxy: one node on SQLite behind nginx, which connects from
127.0.0.2 (the only trusted proxy) and appends the client's address to
X-Forwarded-For.

  python3 tests/system/proxies.py

Needs nginx (Debian's package). Clients connect from several loopback
addresses (127.0.0.5, 127.0.0.6, ...: all of 127.0.0.0/8 is this machine),
so that nginx sees real, different peers. Checks that:
- two clients behind the proxy are limited separately, per address;
- an X-Forwarded-For a client writes itself does not move it to another
  bucket (nginx appends the real peer; the rightmost untrusted hop counts);
- straight to the node, from an untrusted peer, a forged X-Forwarded-For is
  ignored: the peer is the client;
- failed logins from one client throttle that client, not another's login;
- links in feeds come from PUBLIC_BASE_URL, whatever Host the proxy passes.
"""

import http.client
import json
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import harness
from harness import check

PROXY = "127.0.0.2"
PER_MINUTE = 8


def start_nginx(work, upstream):
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    check(Path(nginx).exists(), "nginx is not installed (apt-get install nginx)")
    port = harness.free_port()
    prefix = Path(work.path) / "nginx-proxies"
    (prefix / "logs").mkdir(parents=True)
    conf = prefix / "nginx.conf"
    conf.write_text(textwrap.dedent(f"""\
        daemon off;
        worker_processes 1;
        pid {prefix}/nginx.pid;
        error_log {prefix}/logs/error.log warn;
        events {{ worker_connections 256; }}
        http {{
            access_log off;
            server {{
                listen 0.0.0.0:{port};
                location / {{
                    proxy_pass http://127.0.0.1:{upstream};
                    proxy_bind {PROXY};
                    proxy_set_header Host evil.example;
                    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
                    proxy_http_version 1.1;
                    proxy_set_header Connection "";
                }}
            }}
        }}
    """))
    process = subprocess.Popen([nginx, "-p", str(prefix), "-c", str(conf)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return process, port


def call(port, source, method, path, body=None, headers=None):
    """One request to 127.0.0.1:port from the local address `source`."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(source, 0))
    all_headers = dict(headers or {})
    data = None
    if body is not None:
        data = json.dumps(body)
        all_headers["content-type"] = "application/json"
    conn.request(method, path, body=data, headers=all_headers)
    response = conn.getresponse()
    status, text = response.status, response.read().decode(errors="replace")
    conn.close()
    return status, text


def main():
    harness.build()
    with harness.Workspace() as work:
        env = {
            "TRUSTED_PROXIES": PROXY,
            "RATE_LIMIT_ANONYMOUS_PER_MINUTE": str(PER_MINUTE),
            "PUBLIC_BASE_URL": "https://api.newsdesk.example",
            "SEED_DEMO": "true",
        }
        node = work.server(f"sqlite://{work.path}/proxies.db", env=env, name="proxied").start()
        nginx, port = start_nginx(work, node.port)
        try:
            for _ in range(50):
                try:
                    if call(port, "127.0.0.9", "GET", "/health/live")[0] == 200:
                        break
                except OSError:
                    pass
                time.sleep(0.1)

            # Client A uses up its allowance through the proxy, forging an
            # X-Forwarded-For on every request; client B is untouched.
            forged = {"x-forwarded-for": "203.0.113.99"}
            a = [call(port, "127.0.0.5", "GET", "/api/v1/topics", headers=forged)[0] for _ in range(PER_MINUTE + 2)]
            check(a[:PER_MINUTE - 1] == [200] * (PER_MINUTE - 1) and a[-1] == 429, f"client A: {a}")
            b = call(port, "127.0.0.6", "GET", "/api/v1/topics")[0]
            check(b == 200, f"client B after A was limited: {b}")
            other_forgery = call(port, "127.0.0.5", "GET", "/api/v1/topics", headers={"x-forwarded-for": "198.51.100.1"})[0]
            check(other_forgery == 429, f"client A with another forged address: {other_forgery}")

            # Straight to the node from an untrusted peer: the header is not read.
            direct = [
                call(node.port, "127.0.0.7", "GET", "/api/v1/topics", headers={"x-forwarded-for": f"192.0.2.{n}"})[0]
                for n in range(PER_MINUTE + 1)
            ]
            check(direct[-1] == 429, f"forged X-Forwarded-For from an untrusted peer: {direct}")

            # Failed logins throttle the guessing client only.
            check(node.register("owner@example.com").status == 201, "register")
            guesses = [
                call(port, "127.0.0.10", "POST", "/api/v1/auth/login",
                     {"email": "owner@example.com", "password": "not the password"})[0]
                for _ in range(6)
            ]
            check(guesses[-1] == 429, f"the guesser is throttled: {guesses}")
            owner = call(port, "127.0.0.11", "POST", "/api/v1/auth/login",
                         {"email": "owner@example.com", "password": harness.PASSWORD})[0]
            check(owner == 200, f"the owner, from another address, signs in: {owner}")

            # Links come from configuration, not from the Host nginx passes.
            status, feed = call(port, "127.0.0.12", "GET", "/api/v1/feeds/rss")
            check(status == 200 and "evil.example" not in feed, f"feed links: {status}")
            check("https://api.newsdesk.example/api/v1/articles/" in feed, "feed links use PUBLIC_BASE_URL")
        finally:
            nginx.terminate()
            nginx.wait()
        print(
            f"proxies: behind nginx ({PROXY} trusted) two clients were limited separately, forged "
            f"X-Forwarded-For changed nothing through the proxy or straight to the node, a guesser was "
            f"throttled while the owner signed in, and feed links came from PUBLIC_BASE_URL"
        )


if __name__ == "__main__":
    sys.exit(main())
