"""Several nodes: two newsdesk processes on one PostgreSQL, behind nginx.

  python3 tests/system/nodes.py

Needs nginx (Debian's package). Checks that:
- both nodes started at the same moment on an empty database migrate it
  once (the advisory lock), and both serve;
- nginx spreads requests over both and every answer is good;
- an anonymous meter is exact when its reads alternate between nodes;
- a refresh token used on one node is refused on the other;
- an API key revoked, or an account disabled, on one node is refused by
  both at once.
"""

import re
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import harness
from harness import check


def start_nginx(work, ports):
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    check(Path(nginx).exists(), "nginx is not installed (apt-get install nginx)")
    port = harness.free_port()
    prefix = Path(work.path) / "nginx"
    (prefix / "logs").mkdir(parents=True)
    servers = "\n".join(f"        server 127.0.0.1:{p};" for p in ports)
    conf = prefix / "nginx.conf"
    conf.write_text(textwrap.dedent(f"""\
        daemon off;
        worker_processes 1;
        pid {prefix}/nginx.pid;
        error_log {prefix}/logs/error.log warn;
        events {{ worker_connections 256; }}
        http {{
            access_log off;
            upstream newsdesk {{
        {servers}
            }}
            server {{
                listen 127.0.0.1:{port};
                location / {{
                    proxy_pass http://newsdesk;
                    proxy_set_header Host $host;
                    proxy_http_version 1.1;
                    proxy_set_header Connection "";
                }}
            }}
        }}
    """))
    process = subprocess.Popen([nginx, "-p", str(prefix), "-c", str(conf)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return process, f"http://127.0.0.1:{port}"


def main():
    harness.build()
    with harness.Workspace() as work:
        cluster = work.postgres()
        env = {"RUST_LOG": "info", "LOG_FORMAT": "json", "FREE_ARTICLES_PER_MONTH_ANONYMOUS": "3", "SEED_DEMO": "true"}
        a = work.server(cluster.url, env=env, name="node-a")
        b = work.server(cluster.url, env=env, name="node-b")
        # Both at once, on an empty database.
        a.start(wait=False)
        b.start(wait=False)
        a.wait_ready()
        b.wait_ready()
        applied = [int(m) for n in (a, b) for m in re.findall(r"\"applied\":(\d+)", n.log())]
        migrations = len(list((harness.ROOT / "migrations" / "postgres").iterdir()))
        check(sorted(applied) == [0, migrations], f"migrations applied per node: {applied}, expected one node to apply {migrations}")

        nginx, lb = start_nginx(work, [a.port, b.port])
        try:
            for _ in range(50):
                try:
                    if harness.request(lb, "GET", "/health/ready").status == 200:
                        break
                except OSError:
                    pass
                time.sleep(0.1)
            statuses = [harness.request(lb, "GET", "/api/v1/articles?limit=5").status for _ in range(40)]
            check(set(statuses) == {200}, f"through nginx: {statuses}")
            served = [n.call("GET", "/metrics").body.decode().count('status="200"') for n in (a, b)]
            check(all(served), f"nginx used only one node: {served}")

            # A meter read on alternating nodes counts every read once.
            slugs = [s["slug"] for s in a.call("GET", "/api/v1/articles?limit=100").json()["data"]]
            metered = [s for s in slugs if a.call("GET", f"/api/v1/articles/{s}").json()["access"]["reason"] == "meter"]
            check(len(metered) >= 4, f"{len(metered)} metered articles")
            token, seen = None, []
            for i, slug in enumerate(metered[:4]):
                node = (a, b)[i % 2]
                r = node.call("GET", f"/api/v1/articles/{slug}", headers={"x-meter-token": token} if token else {})
                token = r.header("x-meter-token")
                access = r.json()["access"]
                seen.append((access["full"], access["meter"]["used"]))
            check(seen == [(True, 1), (True, 2), (True, 3), (False, 3)], f"meter across nodes: {seen}")

            # A refresh token works once, whichever node sees it.
            check(a.register("reader@example.com").status == 201, "register")
            session = a.login("reader@example.com")
            first = a.call("POST", "/api/v1/auth/refresh", {"refresh_token": session["refresh_token"]})
            check(first.status == 200, f"refresh on A: {first}")
            reused = b.call("POST", "/api/v1/auth/refresh", {"refresh_token": session["refresh_token"]})
            check(reused.status == 401, f"the used refresh token on B: {reused}")

            # Revocations take effect on every node at once.
            admin = a.create_admin()["access_token"]
            key = a.call("POST", "/api/v1/admin/api-keys", {"name": "Partner", "scopes": ["content:read"]}, token=admin).json()
            headers = {"x-api-key": key["secret"]}
            check(b.call("GET", "/api/v1/articles", headers=headers).status == 200, "key on B")
            check(a.call("DELETE", f"/api/v1/admin/api-keys/{key['key']['id']}", token=admin).status == 204, "revoke on A")
            after = [n.call("GET", "/api/v1/articles", headers=headers).status for n in (a, b)]
            check(after == [401, 401], f"revoked key right after: {after}")

            fresh = a.login("reader@example.com")["access_token"]
            me = b.call("GET", "/api/v1/me", token=fresh).json()
            check(a.call("PATCH", f"/api/v1/admin/users/{me['id']}", {"disabled": True}, token=admin).status == 200, "disable")
            after = [n.call("GET", "/api/v1/me", token=fresh).status for n in (a, b)]
            check(after == [401, 401], f"disabled account right after: {after}")
        finally:
            nginx.terminate()
            nginx.wait()
        print(
            f"nodes: migrations ran once ({migrations} on one node, 0 on the other); nginx spread 40 reads "
            f"over both; meter exact across nodes; used refresh token, revoked key and disabled account "
            f"refused on both at once"
        )


if __name__ == "__main__":
    sys.exit(main())
