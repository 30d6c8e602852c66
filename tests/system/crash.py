"""Crash safety: kill -9 in the middle of a write-heavy load, then restart.

  python3 tests/system/crash.py sqlite|postgres

Clients register, subscribe (test payments), read metered articles with
their own meter tokens and create topics as an editor, without pause; the
server is killed with SIGKILL mid-flight and started again on the same
database. Every write that got a 2xx must be there, complete; each meter
must show exactly the reads it answered (one more only where that client
had a read in flight at the kill); the database must pass its integrity
check.
"""

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid

import harness
from harness import check

CLIENTS = 12


def database(work, backend):
    if backend == "sqlite":
        path = os.path.join(work.path, "crash.db")
        return f"sqlite://{path}", path
    cluster = work.postgres()
    return cluster.url, None


def main():
    backend = sys.argv[1] if len(sys.argv) > 1 else "sqlite"
    harness.build()
    with harness.Workspace() as work:
        url, sqlite_path = database(work, backend)
        env = {"SEED_DEMO": "true", "FREE_ARTICLES_PER_MONTH_ANONYMOUS": "1000", "RESPONSE_CACHE_TTL_MS": "0"}
        server = work.server(url, env=env).start()
        admin = server.create_admin()["access_token"]
        slugs = [a["slug"] for a in server.call("GET", "/api/v1/articles?limit=100").json()["data"]]
        metered = [
            s for s in slugs
            if server.call("GET", f"/api/v1/articles/{s}").json()["access"]["reason"] == "meter"
        ]
        check(len(metered) >= 3, f"only {len(metered)} metered demo articles")

        stop = threading.Event()
        lock = threading.Lock()
        accounts = []  # (email, token, subscribed: bool)
        topics = []
        meters = []  # dicts: token, reads (2xx), used (last seen), in_flight

        def writer(n):
            i = 0
            meter = {"token": None, "reads": 0, "used": 0, "in_flight": False}
            with lock:
                meters.append(meter)
            while not stop.is_set():
                i += 1
                try:
                    if n % 3 == 0:
                        email = f"w{n}-{i}@example.com"
                        r = server.register(email)
                        if r.status != 201:
                            continue
                        token = r.json()["access_token"]
                        with lock:
                            accounts.append([email, token, False])
                            entry = accounts[-1]
                        s = server.call("POST", "/api/v1/me/subscription", {"plan": "monthly"}, token=token,
                                        headers={"idempotency-key": str(uuid.uuid4())})
                        if s.status == 201:
                            entry[2] = True
                    elif n % 3 == 1:
                        slug = f"crash-{n}-{i}"
                        r = server.call("POST", "/api/v1/topics", {"slug": slug, "name": f"Crash {n} {i}"}, token=admin)
                        if r.status == 201:
                            with lock:
                                topics.append(slug)
                    else:
                        if meter["reads"] >= len(metered):
                            meter = {"token": None, "reads": 0, "used": 0, "in_flight": False}
                            with lock:
                                meters.append(meter)
                        slug = metered[meter["reads"]]
                        headers = {"x-meter-token": meter["token"]} if meter["token"] else {}
                        meter["in_flight"] = True
                        r = server.call("GET", f"/api/v1/articles/{slug}", headers=headers)
                        meter["in_flight"] = False
                        if r.status == 200:
                            meter["token"] = r.header("x-meter-token")
                            meter["reads"] += 1
                            meter["used"] = r.json()["access"]["meter"]["used"]
                except OSError:
                    time.sleep(0.05)

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(CLIENTS)]
        for t in threads:
            t.start()
        time.sleep(3.0)
        server.signal(signal.SIGKILL)
        server.process.wait()
        stop.set()
        for t in threads:
            t.join()

        if sqlite_path:
            db = sqlite3.connect(sqlite_path)
            check(db.execute("PRAGMA integrity_check").fetchone()[0] == "ok", "SQLite integrity check")
            db.close()

        server = work.server(url, env=env, name="restarted").start()
        lost = []
        for email, token, subscribed in accounts:
            me = server.call("GET", "/api/v1/me", token=token)
            if me.status != 200 or me.json()["email"] != email:
                lost.append(f"account {email}: {me}")
            sub = server.call("GET", "/api/v1/me/subscription", token=token)
            if subscribed and (sub.status != 200 or not sub.json()["full_access"]):
                lost.append(f"subscription of {email}: {sub}")
        for slug in topics:
            r = server.call("GET", f"/api/v1/topics/{slug}")
            if r.status != 200:
                lost.append(f"topic {slug}: {r}")
        wrong = []
        counted = [m for m in meters if m["token"]]
        for m in counted:
            # Re-reading the first article costs nothing and shows the count.
            r = server.call("GET", f"/api/v1/articles/{metered[0]}", headers={"x-meter-token": m["token"]})
            used = r.json()["access"]["meter"]["used"]
            allowed = {m["reads"], m["reads"] + 1} if m["in_flight"] else {m["reads"]}
            if used not in allowed or m["used"] != m["reads"]:
                wrong.append(f"meter with {m['reads']} reads answered shows {used} (in flight: {m['in_flight']})")
        check(not lost, f"writes answered 2xx but lost: {lost[:5]}")
        check(not wrong, f"meters off: {wrong[:5]}")
        check(len(accounts) > 10 and topics and counted, f"too little load: {len(accounts)} accounts, {len(topics)} topics")
        print(
            f"crash ({backend}): after kill -9, all {len(accounts)} accounts "
            f"({sum(1 for a in accounts if a[2])} subscribed), {len(topics)} topics and "
            f"{len(counted)} meters ({sum(m['reads'] for m in counted)} reads) are exact"
        )


if __name__ == "__main__":
    sys.exit(main())
