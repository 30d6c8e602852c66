"""Database faults: the server keeps answering, says 503 quickly, and heals.

  python3 tests/system/faults.py

- PostgreSQL (a private cluster) stopped under a running server: readiness
  and data endpoints answer 503 problem+json within 2 s; once PostgreSQL is
  back the same process serves 200 again, with no restart.
- SQLite locked by another process's write transaction: writes answer 503
  within 2 s, reads go on, and writes succeed once the lock is gone.
- SQLite file read-only at start-up: the server stops at once, saying why.
"""

import os
import sqlite3
import subprocess
import sys
import time

import harness
from harness import check


def timed(server, method, path, body=None, token=None):
    started = time.monotonic()
    response = server.call(method, path, body, token=token, timeout=5)
    return response, time.monotonic() - started


def expect_unavailable(response, took, what):
    check(response.status == 503, f"{what}: {response}")
    check(took < 2.0, f"{what}: answered in {took:.2f} s, not within 2 s")
    check(
        response.header("content-type") == "application/problem+json",
        f"{what}: {response.header('content-type')}",
    )
    check(response.json()["code"] == "service_unavailable", f"{what}: {response}")
    check(response.header("retry-after") is not None, f"{what}: no Retry-After")


def wait_for(condition, seconds, what):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"{what} did not happen within {seconds} s")


def postgres_stops_and_comes_back(work):
    cluster = work.postgres()
    server = work.server(cluster.url, env={"SEED_DEMO": "true"}).start()
    check(server.call("GET", "/api/v1/articles").status == 200, "articles before the fault")
    token = server.register("before@example.com").json()["access_token"]

    cluster.stop("immediate")
    for path in ["/health/ready", "/api/v1/articles?limit=3", "/api/v1/me"]:
        # Each twice: the first may meet a pooled connection that just died.
        for attempt in range(2):
            response, took = timed(server, "GET", path, token=token)
            expect_unavailable(response, took, f"GET {path} (attempt {attempt + 1}) with PostgreSQL down")
    response, took = timed(server, "POST", "/api/v1/auth/register",
                           {"email": "during@example.com", "password": harness.PASSWORD, "display_name": "During"})
    expect_unavailable(response, took, "register with PostgreSQL down")
    check(server.call("GET", "/health/live").status == 200, "liveness must not depend on the database")

    cluster.start()
    wait_for(lambda: server.call("GET", "/health/ready").status == 200, 10, "readiness after PostgreSQL restarted")
    check(server.process.poll() is None, "the server restarted or died")
    check(server.call("GET", "/api/v1/articles?limit=3").status == 200, "articles after recovery")
    check(server.call("GET", "/api/v1/me", token=token).status == 200, "the session survived")
    check(server.register("after@example.com").status == 201, "writes after recovery")
    server.login("after@example.com")
    print("faults: PostgreSQL stopped -> 503 within 2 s on readiness, reads and writes; recovered without restart")


def sqlite_locked_then_released(work):
    path = os.path.join(work.path, "locked.db")
    server = work.server(f"sqlite://{path}", env={"SEED_DEMO": "true"}).start()
    check(server.register("first@example.com").status == 201, "a write before the lock")

    holder = sqlite3.connect(path, timeout=0)
    holder.execute("BEGIN IMMEDIATE")  # holds the write lock until rollback
    try:
        response, took = timed(server, "POST", "/api/v1/auth/register",
                               {"email": "blocked@example.com", "password": harness.PASSWORD, "display_name": "Blocked"})
        expect_unavailable(response, took, "register while another process holds the write lock")
        response, took = timed(server, "GET", "/api/v1/articles?limit=3")
        check(response.status == 200 and took < 2.0, f"reads go on under a write lock: {response} in {took:.2f} s")
    finally:
        holder.rollback()
        holder.close()
    check(server.register("blocked@example.com").status == 201, "the refused write can be retried")
    print("faults: SQLite write-locked -> 503 within 2 s on writes, reads served, writes resume")


def sqlite_read_only(work):
    """A file the server may not write: it says so and stops at start-up,
    rather than serve a database it cannot keep. (A file that turns
    read-only under a running server cannot be staged here: open handles
    keep write access and the container cannot remount; that error's
    mapping to 503 is a unit test in src/error.rs.)"""
    path = os.path.join(work.path, "readonly.db")
    first = work.server(f"sqlite://{path}", env={"SEED_DEMO": "true"}).start()
    first.stop()
    os.chmod(work.path, 0o777)
    for p in (path, path + "-wal", path + "-shm"):
        if os.path.exists(p):
            os.chmod(p, 0o444)
    os.chmod(work.path, 0o555)
    try:
        server = work.server(f"sqlite://{path}", name="read-only")
        started = time.monotonic()
        log = open(server.log_path, "ab")
        argv = [str(harness.BINARY), "serve"]
        if os.geteuid() == 0:  # root would write through file permissions
            argv = ["runuser", "-u", "nobody", "--"] + argv
        code = subprocess.run(argv, env=server.env, stdout=log, stderr=subprocess.STDOUT, timeout=10).returncode
        took = time.monotonic() - started
    finally:
        os.chmod(work.path, 0o777)
    check(code != 0, "the server started on a read-only database")
    check(took < 5, f"gave up after {took:.1f} s")
    check("readonly database" in server.log(), f"no clear reason given:\n{server.log()}")
    print(f"faults: SQLite file read-only at start -> exit {code} after {took:.1f} s, saying why")


def main():
    harness.build()
    for test in [postgres_stops_and_comes_back, sqlite_locked_then_released, sqlite_read_only]:
        with harness.Workspace() as work:
            test(work)


if __name__ == "__main__":
    sys.exit(main())
