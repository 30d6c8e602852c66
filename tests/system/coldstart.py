"""A restart under traffic: a node with a cold cache, on a large database,
hit at once by 64 browsers.

  python3 tests/system/coldstart.py sqlite|postgres [ARTICLES]

Seeds ARTICLES synthetic articles (100,000 on SQLite, 20,000 on PostgreSQL
by default: the debug binary seeds PostgreSQL far more slowly), starts a
node, reads the topic slugs from it and stops it, then starts a new node,
whose response cache is empty. 64 clients, each on its own keep-alive
connection and asking for gzip and brotli as browsers do, send their first
requests at the same moment, spread over the front page, searches, topic
lists and the latest list, and go on for a few seconds. Every answer must
be 2xx: no 503 from a drained pool, no time-out, no dropped connection.
"""

import http.client
import os
import subprocess
import sys
import threading
import time

import harness
from harness import check

CLIENTS = 64
SECONDS = 6
TIMEOUT = 10


def seed(server, articles):
    started = time.monotonic()
    subprocess.run(
        [str(harness.BINARY), "seed", "--synthetic", str(articles)],
        env=server.env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.monotonic() - started


def storm(port, paths):
    """CLIENTS threads; thread i starts on paths[i % len(paths)] the moment
    all are connected, then walks the list until SECONDS have passed."""
    gate = threading.Barrier(CLIENTS)
    lock = threading.Lock()
    outcomes = {"ok": 0, "bad": [], "errors": [], "latencies": []}

    def client(i):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
        conn.connect()
        headers = {"accept-encoding": "gzip, deflate, br", "accept": "application/json"}
        gate.wait()
        deadline = time.monotonic() + SECONDS
        n = i
        while time.monotonic() < deadline:
            path = paths[n % len(paths)]
            n += 1
            started = time.monotonic()
            try:
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                body = response.read()
                took = time.monotonic() - started
                with lock:
                    outcomes["latencies"].append(took)
                    if 200 <= response.status < 300:
                        outcomes["ok"] += 1
                    else:
                        outcomes["bad"].append((path, response.status, body[:200]))
            except OSError as e:
                with lock:
                    outcomes["errors"].append((path, repr(e)))
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
        conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def main():
    backend = sys.argv[1] if len(sys.argv) > 1 else "sqlite"
    check(backend in ("sqlite", "postgres"), f"unknown backend {backend}")
    default = 100_000 if backend == "sqlite" else 20_000
    articles = int(sys.argv[2]) if len(sys.argv) > 2 else default
    harness.build()
    with harness.Workspace() as work:
        if backend == "sqlite":
            url = f"sqlite://{os.path.join(work.path, 'cold.db')}"
        else:
            url = work.postgres().url
        first = work.server(url, name="first")
        seeded = seed(first, articles)

        first.start()
        topics = first.call("GET", "/api/v1/topics?limit=100").json()["data"]
        topics = sorted(topics, key=lambda t: -t.get("article_count", 0))[:3]
        check(len(topics) == 3, f"the synthetic catalogue has topics: {topics}")
        first.stop()

        paths = [
            "/api/v1/home",
            "/api/v1/articles?q=port",
            "/api/v1/articles?q=winter&limit=10",
            "/api/v1/articles?limit=20",
        ] + [f"/api/v1/articles?limit=20&topic={t['slug']}" for t in topics]

        node = work.server(url, name="restarted").start()
        outcomes = storm(node.port, paths)
        check(node.process.poll() is None, "the node died")

        latencies = sorted(outcomes["latencies"])
        answered = len(latencies)
        slowest = latencies[-1] if latencies else 0
        p99 = latencies[int(answered * 0.99)] if latencies else 0
        print(
            f"coldstart {backend}: {articles:,} articles seeded in {seeded:.0f} s; "
            f"{CLIENTS} clients, {answered} answers in {SECONDS} s, {outcomes['ok']} 2xx, "
            f"{len(outcomes['bad'])} not 2xx, {len(outcomes['errors'])} errors; "
            f"p99 {p99 * 1000:.0f} ms, slowest {slowest * 1000:.0f} ms"
        )
        check(not outcomes["bad"], f"answers that were not 2xx: {outcomes['bad'][:5]}")
        check(not outcomes["errors"], f"requests that failed: {outcomes['errors'][:5]}")
        check(outcomes["ok"] >= CLIENTS * len(paths), f"too few answers: {outcomes['ok']}")


if __name__ == "__main__":
    sys.exit(main())
