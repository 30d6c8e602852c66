"""Processes for the system tests: newsdesk servers, a private PostgreSQL
cluster, and a small HTTP client. Standard library only.

Each test script builds the debug binary once (cargo build), then starts
servers on free ports of 127.0.0.1 with their own databases.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BINARY = ROOT / "target" / "debug" / "newsdesk"
PASSWORD = "system test passphrase 1"
JWT_SECRET = "system-test-secret-system-test-secret-0123"


def build():
    subprocess.run(
        ["cargo", "build", "--quiet", "--manifest-path", str(ROOT / "Cargo.toml")],
        check=True,
    )


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def check(condition, message):
    if not condition:
        raise AssertionError(message)


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body)

    def header(self, name):
        return self.headers.get(name.lower())

    def __repr__(self):
        return f"<{self.status} {self.body[:200]!r}>"


def request(base, method, path, body=None, headers=None, timeout=10):
    """One request; any HTTP status is a Response, a refused or dropped
    connection raises OSError."""
    data = None
    all_headers = dict(headers or {})
    if body is not None:
        data = json.dumps(body).encode()
        all_headers.setdefault("content-type", "application/json")
    req = urllib.request.Request(base + path, data=data, method=method, headers=all_headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return Response(r.status, {k.lower(): v for k, v in r.headers.items()}, r.read())
    except urllib.error.HTTPError as e:
        return Response(e.code, {k.lower(): v for k, v in e.headers.items()}, e.read())
    except urllib.error.URLError as e:
        raise OSError(str(e.reason)) from e


class Server:
    """A newsdesk process; `env` adds to the defaults below."""

    def __init__(self, database_url, work, env=None, port=None, name="server"):
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = Path(work) / f"{name}-{self.port}.log"
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "BIND_ADDR": f"127.0.0.1:{self.port}",
            "RUST_LOG": "warn",
            "JWT_SECRET": JWT_SECRET,
            "PAYMENT_PROVIDER": "test",
            "RATE_LIMIT_ANONYMOUS_PER_MINUTE": "0",
            "RATE_LIMIT_USER_PER_MINUTE": "0",
            # Every test client comes from 127.0.0.1 and most drop meter
            # tokens; proxies.py and the API tests cover this allowance.
            "ANONYMOUS_METERS_PER_ADDRESS": "1000000",
            "REGISTRATIONS_PER_ADDRESS_PER_HOUR": "0",
            **(env or {}),
        }
        self.process = None

    def start(self, wait=True):
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [str(BINARY), "serve"], env=self.env, stdout=log, stderr=subprocess.STDOUT
        )
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, seconds=30):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"{self.base} exited early:\n{self.log()}")
            try:
                if request(self.base, "GET", "/health/ready", timeout=2).status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"{self.base} not ready in {seconds} s:\n{self.log()}")

    def log(self):
        return self.log_path.read_text(errors="replace")[-4000:]

    def call(self, method, path, body=None, headers=None, token=None, timeout=10):
        headers = dict(headers or {})
        if token:
            headers["authorization"] = f"Bearer {token}"
        return request(self.base, method, path, body, headers, timeout)

    def signal(self, sig):
        self.process.send_signal(sig)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def create_admin(self, email="admin@example.com"):
        subprocess.run(
            [str(BINARY), "create-admin", "--email", email, "--password-stdin"],
            input=PASSWORD.encode(),
            env=self.env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        return self.login(email)

    def login(self, email, headers=None):
        r = self.call("POST", "/api/v1/auth/login", {"email": email, "password": PASSWORD}, headers)
        check(r.status == 200, f"login {email}: {r}")
        return r.json()

    def register(self, email, headers=None):
        body = {"email": email, "password": PASSWORD, "display_name": "System Test"}
        return self.call("POST", "/api/v1/auth/register", body, headers)


class PostgresCluster:
    """A private PostgreSQL server (initdb in a temporary folder, run as the
    `postgres` user), so a test may stop and start it at will."""

    def __init__(self, work):
        versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
        check(versions, "no PostgreSQL server binaries under /usr/lib/postgresql")
        self.bin = versions[-1].parent
        self.dir = Path(work) / "pg"
        self.dir.mkdir()
        shutil.chown(self.dir, "postgres", "postgres")
        os.chmod(work, 0o755)
        self.port = free_port()
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/postgres?sslmode=disable"
        self._as_postgres([self.bin / "initdb", "-D", self.dir / "data", "-A", "trust", "-U", "postgres"])

    def _as_postgres(self, argv):
        argv = [str(a) for a in argv]
        if os.geteuid() == 0:
            argv = ["runuser", "-u", "postgres", "--"] + argv
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def start(self):
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=on"
        self._as_postgres(
            [self.bin / "pg_ctl", "-D", self.dir / "data", "-o", options, "-l", self.dir / "log", "-w", "start"]
        )
        return self

    def stop(self, mode="fast"):
        self._as_postgres([self.bin / "pg_ctl", "-D", self.dir / "data", "-m", mode, "-w", "stop"])


class Workspace:
    """A temporary folder removed at the end, with the servers started in it
    stopped first."""

    def __enter__(self):
        self.path = tempfile.mkdtemp(prefix="newsdesk-system-")
        self.servers = []
        self.clusters = []
        return self

    def server(self, database_url, **kwargs):
        server = Server(database_url, self.path, **kwargs)
        self.servers.append(server)
        return server

    def postgres(self):
        cluster = PostgresCluster(self.path)
        self.clusters.append(cluster)
        return cluster.start()

    def __exit__(self, kind, error, trace):
        for server in self.servers:
            server.stop()
        if error is not None:
            for server in self.servers:
                print(f"--- {server.log_path.name}\n{server.log()}", file=sys.stderr)
        for cluster in self.clusters:
            try:
                cluster.stop("immediate")
            except subprocess.CalledProcessError:
                pass
        shutil.rmtree(self.path, ignore_errors=True)
