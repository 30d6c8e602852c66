"""Graceful shutdown: SIGTERM while clients are busy.

  python3 tests/system/shutdown.py

Sixteen clients read, search, register and sign up for the newsletter
without pause; the server gets SIGTERM in the middle. Then:
- every request the server had accepted is answered in full (a 2xx or 4xx,
  never a dropped connection), and after SIGTERM new connections are refused;
- the process exits within SHUTDOWN_TIMEOUT_SECS;
- article views counted in memory (flushed every 5 s) are in the database,
  and mail queued for an SMTP server that is down is still queued;
- every registration that got a 201 can log in after a restart.
"""

import os
import signal
import sqlite3
import sys
import threading
import time

import harness
from harness import check

CLIENTS = 16
TIMEOUT_SECS = 10


def main():
    harness.build()
    with harness.Workspace() as work:
        path = os.path.join(work.path, "shutdown.db")
        env = {
            "SEED_DEMO": "true",
            "SHUTDOWN_TIMEOUT_SECS": str(TIMEOUT_SECS),
            # Nobody listens here: confirmation mail stays queued.
            "SMTP_URL": f"smtp://127.0.0.1:{harness.free_port()}",
            "RESPONSE_CACHE_TTL_MS": "0",
            # A view counts once per reader and hour: each read below comes
            # from its own address, forwarded by "a proxy" on 127.0.0.1.
            "TRUSTED_PROXIES": "127.0.0.1",
        }
        server = work.server(f"sqlite://{path}", env=env).start()
        # Without a meter token every read starts a new meter: always whole.
        slugs = [a["slug"] for a in server.call("GET", "/api/v1/articles?limit=5").json()["data"]]

        stop = threading.Event()
        stop_sent = threading.Event()
        lock = threading.Lock()
        # A connection still in the listen backlog when the server stops
        # accepting is closed unread: the client sees its request go
        # unanswered. Such a request must have had no effect (checked for
        # registrations below); one the server read must be answered.
        outcomes = {"answered": 0, "refused": 0, "unanswered": 0, "dropped": []}
        unanswered_registrations = []
        registered, signed_up, views = [], [], [0]

        def client(n):
            i = 0
            while not stop.is_set():
                i += 1
                kind = i % 4
                try:
                    email = f"c{n}-{i}@example.com"
                    if kind == 0:
                        r = server.register(email)
                        if r.status == 201:
                            with lock:
                                registered.append(email)
                    elif kind == 1:
                        email = f"s{n}-{i}@example.com"
                        r = server.call("POST", "/api/v1/newsletters/daily/signups", {"email": email})
                        if r.status == 202:
                            with lock:
                                signed_up.append(email)
                    elif kind == 2:
                        reader = {"x-forwarded-for": f"10.{n % 256}.{i // 256 % 256}.{i % 256}"}
                        r = server.call("GET", f"/api/v1/articles/{slugs[i % len(slugs)]}", headers=reader)
                        if r.status == 200:
                            with lock:
                                views[0] += 1
                    else:
                        r = server.call("GET", "/api/v1/articles?q=harbour&limit=5")
                    with lock:
                        outcomes["answered"] += 1
                        if r.status >= 500:
                            outcomes["dropped"].append(f"{r.status}: {r.body[:200]!r}")
                except OSError as e:
                    with lock:
                        if "refused" in str(e).lower():
                            outcomes["refused"] += 1
                        elif stop_sent.is_set():
                            outcomes["unanswered"] += 1
                            if kind == 0:
                                unanswered_registrations.append(email)
                        else:
                            outcomes["dropped"].append(repr(e))
                    time.sleep(0.05)

        threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
        for t in threads:
            t.start()
        time.sleep(2.0)
        answered_before = outcomes["answered"]
        sent = time.monotonic()
        stop_sent.set()
        server.signal(signal.SIGTERM)
        server.process.wait(TIMEOUT_SECS + 5)
        took = time.monotonic() - sent
        time.sleep(0.5)
        stop.set()
        for t in threads:
            t.join()

        check(answered_before > 50, f"only {answered_before} requests before SIGTERM")
        check(not outcomes["dropped"], f"requests dropped or failed: {outcomes['dropped'][:5]}")
        check(outcomes["refused"] > 0, "no new connection was refused after SIGTERM")
        check(took <= TIMEOUT_SECS + 1, f"exited {took:.1f} s after SIGTERM, limit {TIMEOUT_SECS} s")
        check(server.process.returncode == 0, f"exit status {server.process.returncode}")

        db = sqlite3.connect(path)
        stored_views = db.execute("SELECT COALESCE(SUM(views), 0) FROM article_views").fetchone()[0]
        check(stored_views == views[0], f"{views[0]} article views served, {stored_views} stored")
        queued = {row[0] for row in db.execute("SELECT recipient FROM mail_outbox WHERE status = 'pending'")}
        missing = [e for e in signed_up if e not in queued]
        check(signed_up and not missing, f"{len(signed_up)} sign-ups, confirmation not queued for {missing[:5]}")
        db.close()

        restarted = work.server(f"sqlite://{path}", env=env, name="restarted").start()
        for email in registered[-20:]:
            restarted.login(email)
        for email in unanswered_registrations:
            r = restarted.call("POST", "/api/v1/auth/login", {"email": email, "password": harness.PASSWORD})
            check(r.status == 401, f"{email} was registered, but its request went unanswered")
        print(
            f"shutdown: {answered_before} requests before SIGTERM, {outcomes['answered']} answered in all, "
            f"none dropped, {outcomes['refused']} new connections refused, {outcomes['unanswered']} closed unread "
            f"(no effect); exited in {took:.2f} s; "
            f"{stored_views} views and {len(signed_up)} queued mails persisted; {len(registered)} accounts kept"
        )


if __name__ == "__main__":
    sys.exit(main())
