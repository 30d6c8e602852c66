#!/usr/bin/env python3
"""The newsdesk read-path benchmark.

Builds the release binary, seeds fresh SQLite and PostgreSQL databases with
`seed --synthetic` (1,000 and 100,000 articles), starts the server, and
drives each scenario with wrk (64 connections, fixed duration, three runs,
medians). In the same run, nginx serves the exact bytes of each scenario's
response as a static file, and our requests/s are reported as a ratio of
nginx's. Every public read runs twice: as `curl` asks (no compression) and
as browsers ask (`Accept-Encoding: gzip, deflate, br`), against nginx
serving the same bytes pre-compressed (`gzip_static`, and `brotli_static`
when Debian's libnginx-mod-http-brotli-static is installed). The server's
CPU time per request comes from /proc/<pid>/stat, a figure that does not
depend on sharing the cores with wrk. A run in which any response was not
2xx or 3xx fails. The metered scenario is many readers holding their own
meter tokens, reading metered articles at random. Writes bench/results.json
and bench/results.md.

    python3 bench/run.py                      # everything (about 45 minutes; --runs 1 --seconds 4: about 20)
    python3 bench/run.py --quick              # 1,000 articles, SQLite, 2 s runs

Needs wrk and nginx (`apt-get install wrk nginx`), and PostgreSQL on
127.0.0.1:5432 (user postgres) unless --backends sqlite.
"""

import argparse
import gzip
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.path.join(ROOT, "target", "release", "newsdesk")
WORK = os.path.join(ROOT, "target", "bench")
PORT = 18080
NGINX_PORT = 18081
PG = "postgres://postgres@127.0.0.1:5432"
CONNECTIONS = 64
PASSWORD = "benchmark passphrase 1"
BROWSER = "gzip, deflate, br"
# Concurrent logins of the one benchmark account from one address: the
# login throttle reserves each attempt before checking it, so more than 5 at
# once for one account and address are refused (429) by design.
LOGIN_CONNECTIONS = 4
# Anonymous readers of the metered scenario, each with a meter token, and
# the metered articles they read at random. Their allowance is the highest
# there is (FREE_ARTICLES_PER_MONTH_ANONYMOUS=1000), so that nearly every
# read is a new article on the reader's meter: one durable write.
METER_READERS = 600
METERED_ARTICLES = 2000
# Scenarios to run (--scenarios); empty: all of them.
ONLY = set()
BROTLI_STATIC = "/usr/lib/nginx/modules/ngx_http_brotli_static_module.so"


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def get(path, headers=None, data=None, method=None):
    request = urllib.request.Request(
        f"http://127.0.0.1:{PORT}{path}", headers=headers or {}, data=data, method=method
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.read(), dict(response.headers)


def get_json(path):
    return json.loads(get(path)[0])


def psql(sql, db="postgres"):
    subprocess.run(
        ["psql", f"{PG}/{db}", "-q", "-v", "ON_ERROR_STOP=1", "-c", sql],
        check=True,
        capture_output=True,
    )


def fresh_database(backend, size):
    if backend == "sqlite":
        path = os.path.join(WORK, f"bench-{size}.db")
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)
        return f"sqlite://{path}"
    name = f"newsdesk_bench_{size}"
    psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    psql(f"CREATE DATABASE {name}")
    return f"{PG}/{name}"


def env_for(url):
    env = dict(os.environ)
    env.update(
        DATABASE_URL=url,
        BIND_ADDR=f"127.0.0.1:{PORT}",
        SEED_DEMO="false",
        RATE_LIMIT_ANONYMOUS_PER_MINUTE="0",
        RATE_LIMIT_USER_PER_MINUTE="0",
        # wrk's one address stands for many readers: without this, every
        # new reader after the tenth would share the address's meter.
        ANONYMOUS_METERS_PER_ADDRESS="1000000",
        FREE_ARTICLES_PER_MONTH_ANONYMOUS="1000",
        RUST_LOG="warn",
        WORKERS="2",
        JWT_SECRET="benchmark-secret-benchmark-secret-0123456789",
    )
    return env


def seed(url, size):
    started = time.monotonic()
    subprocess.run([BINARY, "seed", "--synthetic", str(size)], env=env_for(url), check=True,
                   capture_output=True)
    seconds = time.monotonic() - started
    subprocess.run(
        [BINARY, "create-admin", "--email", "bench@example.com", "--password-stdin"],
        env=env_for(url), input=PASSWORD.encode(), check=True, capture_output=True,
    )
    return seconds


def start_server(url):
    started = time.monotonic()
    process = subprocess.Popen([BINARY, "serve"], env=env_for(url),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while True:
        try:
            get("/health/ready")
            return process, time.monotonic() - started
        except (urllib.error.URLError, ConnectionError):
            if process.poll() is not None:
                raise RuntimeError("the server exited at start-up")
            time.sleep(0.01)


def peak_rss_mb(process):
    with open(f"/proc/{process.pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return None


def stop(process):
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()


LATENCY = re.compile(r"^\s+(50|99)(?:\.000)?%\s+([\d.]+)(us|ms|s)\s*$", re.M)


def cpu_seconds(pid):
    """User plus system CPU time of a process so far."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk(url, seconds, script=None, headers=(), pid=None, connections=CONNECTIONS):
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for header in headers:
        command += ["-H", header]
    if script:
        command += ["-s", script]
    before = cpu_seconds(pid) if pid else None
    output = subprocess.run(command + [url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    total = int(re.search(r"(\d+) requests in", output).group(1))
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = int(non_2xx.group(1)) if non_2xx else 0
    if errors:
        # wrk counts a 429 or a 503 as a request like any other: a run
        # with any of them measured something else than it claims.
        raise SystemExit(f"FAILED: {errors} of {total} responses were not 2xx/3xx at {url}")
    latencies = {}
    for percentile, value, unit in LATENCY.findall(output):
        factor = {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
        latencies[percentile] = float(value) * factor
    cpu_us = (cpu_seconds(pid) - before) / max(total, 1) * 1e6 if pid else None
    return {"rps": rps, "p50_ms": latencies.get("50"), "p99_ms": latencies.get("99"),
            "errors": errors, "cpu_us": cpu_us}


def measure(url, seconds, runs, script=None, headers=(), pid=None, connections=CONNECTIONS):
    results = [wrk(url, seconds, script, headers, pid, connections) for _ in range(runs)]
    cpu = [r["cpu_us"] for r in results if r["cpu_us"] is not None]
    return {
        "rps": statistics.median(r["rps"] for r in results),
        "p50_ms": statistics.median(r["p50_ms"] for r in results),
        "p99_ms": statistics.median(r["p99_ms"] for r in results),
        "errors": sum(r["errors"] for r in results),
        "cpu_us": statistics.median(cpu) if cpu else None,
    }


def nginx_start(root):
    conf = os.path.join(WORK, "nginx.conf")
    brotli = os.path.exists(BROTLI_STATIC)
    with open(conf, "w") as f:
        f.write((f"load_module {BROTLI_STATIC};\n" if brotli else "") + f"""
worker_processes 2;
pid {WORK}/nginx.pid;
error_log {WORK}/nginx-error.log;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    keepalive_requests 100000;
    default_type application/json;
    gzip_static on;
    {"brotli_static on;" if brotli else ""}
    server {{
        listen 127.0.0.1:{NGINX_PORT};
        root {root};
    }}
}}
""")
    subprocess.run(["nginx", "-c", conf], check=True)
    time.sleep(0.3)
    return conf


def nginx_stop(conf):
    subprocess.run(["nginx", "-c", conf, "-s", "stop"], check=False)
    time.sleep(0.3)


def scenarios(size):
    """Paths of each scenario for this database."""
    free = get_json("/api/v1/articles?limit=100")["data"]
    by_level = {}
    for article in free:
        by_level.setdefault(article["access_level"], article["slug"])
    topic = get_json("/api/v1/topics?limit=100")["data"]
    topic = max(topic, key=lambda t: t.get("article_count", 0))["slug"]
    # Walk to the deepest page up to the 1,000th of 20 (the 1,000-article
    # database has only 50 such pages).
    target = min(999 * 20, size - 20)
    cursor, seen = None, 0
    # On the way, the metered articles the meter readers read, up to
    # METERED_ARTICLES of them.
    metered = []
    while seen < target:
        step = min(100, target - seen)
        path = f"/api/v1/articles?limit={step}" + (f"&cursor={cursor}" if cursor else "")
        page = get_json(path)
        seen += len(page["data"])
        cursor = page["meta"]["next_cursor"]
        metered += [f"/api/v1/articles/{a['slug']}" for a in page["data"]
                    if a["access_level"] == "metered"]
    metered = metered[:METERED_ARTICLES]
    deep_page = 1 + target // 20
    return {
        "list": "/api/v1/articles?limit=20",
        "topic_list": f"/api/v1/articles?limit=20&topic={topic}",
        "free_article": f"/api/v1/articles/{by_level['free']}",
        "metered_readers": metered,
        "page_1": "/api/v1/articles?limit=20",
        "deep_page": f"/api/v1/articles?limit=20&cursor={cursor}",
        "search": "/api/v1/articles?q=port",
        "home": "/api/v1/home",
        "feed": "/api/v1/feeds/rss",
        "login": "/api/v1/auth/login",
    }, deep_page


# Scenarios whose answer is the same for everyone, compared with nginx.
PUBLIC = ("list", "topic_list", "free_article", "page_1", "deep_page", "search", "home", "feed")


def ledger_counts():
    """The meter ledger's writes (jobs) and commits so far, from /metrics."""
    body, _ = get("/metrics")
    counts = {"jobs": 0, "commits": 0}
    for line in body.decode().splitlines():
        found = re.match(r'newsdesk_meter_ledger_total\{event="(\w+)"\} (\d+)', line)
        if found and found.group(1) in counts:
            counts[found.group(1)] = int(found.group(2))
    return counts


def metered_script(paths):
    """Many anonymous readers, each with their own meter token, reading
    metered articles at random: the write path of real returning readers."""
    tokens = []
    for _ in range(METER_READERS):
        _, headers = get(paths[0])
        tokens.append(headers.get("x-meter-token") or headers.get("X-Meter-Token"))
    path = os.path.join(WORK, "metered.lua")
    with open(path, "w") as f:
        f.write("local tokens = {" + ",".join(json.dumps(t) for t in tokens) + "}\n")
        f.write("local paths = {" + ",".join(json.dumps(p) for p in paths) + "}\n")
        # Each thread (and each run) draws its own readers and articles: with
        # one fixed seed, every run repeated the first one's reads, which were
        # then all re-reads that write nothing.
        f.write("local threads = 0\n")
        f.write("function setup(thread)\n  threads = threads + 1\n  thread:set(\"id\", threads)\nend\n")
        f.write("function init(args)\n  math.randomseed(os.time() * 1000 + id)\nend\n")
        f.write("request = function()\n")
        f.write('  wrk.headers["X-Meter-Token"] = tokens[math.random(#tokens)]\n')
        f.write("  return wrk.format(nil, paths[math.random(#paths)])\n")
        f.write("end\n")
    return path


def login_script():
    path = os.path.join(WORK, "login.lua")
    with open(path, "w") as f:
        body = json.dumps({"email": "bench@example.com", "password": PASSWORD})
        f.write('wrk.method = "POST"\n')
        f.write(f"wrk.body = {json.dumps(body)}\n")
        f.write('wrk.headers["Content-Type"] = "application/json"\n')
    return path


def run_backend(backend, size, seconds, runs, static_root):
    log(f"== {backend}, {size} articles")
    url = fresh_database(backend, size)
    seed_seconds = seed(url, size)
    log(f"   seeded in {seed_seconds:.1f} s")
    # Start once to migrate and warm, then measure start-up on the existing database.
    process, _ = start_server(url)
    stop(process)
    process, startup = start_server(url)
    log(f"   ready in {startup:.2f} s")
    paths, deep_page = scenarios(size)
    results = {"seed_seconds": seed_seconds, "startup_seconds": startup,
               "deep_page_number": deep_page, "scenarios": {}}
    conf = None
    try:
        for name, path in paths.items():
            if ONLY and name not in ONLY:
                continue
            if name == "login":
                # argon2 holds 19 MiB per hash: report the read path's peak apart.
                results["peak_rss_mb_reads"] = peak_rss_mb(process)
            script = None
            if name == "login":
                script = login_script()
            elif name == "metered_readers":
                script, path = metered_script(path), path[0]
            target = f"http://127.0.0.1:{PORT}{path}"
            if name in PUBLIC:
                get(path)  # warm
            # Logins go through the throttle and a bounded hash queue.
            connections = LOGIN_CONNECTIONS if name == "login" else CONNECTIONS
            before = ledger_counts()
            ours = measure(target, seconds, runs, script, pid=process.pid, connections=connections)
            entry = {"path": path, "ours": ours}
            if name == "metered_readers":
                after = ledger_counts()
                jobs, commits = (after[k] - before[k] for k in ("jobs", "commits"))
                entry["meter_writes"] = jobs
                entry["writes_per_commit"] = jobs / commits if commits else None
                log(f"   meter ledger: {jobs} writes in {commits} commits")
            if name in PUBLIC:
                # The bytes of one response, served by nginx for comparison,
                # and the same bytes as nginx serves them pre-compressed.
                body, _ = get(path)
                file_name = f"{backend}-{size}-{name}.json"
                with open(os.path.join(static_root, file_name), "wb") as f:
                    f.write(body)
                with open(os.path.join(static_root, file_name + ".gz"), "wb") as f:
                    f.write(gzip.compress(body, 6))
                if shutil.which("brotli"):
                    subprocess.run(["brotli", "-f", "-q", "5", os.path.join(static_root, file_name)], check=True)
                if conf is None:
                    conf = nginx_start(static_root)
                static = f"http://127.0.0.1:{NGINX_PORT}/{file_name}"
                entry["nginx"] = measure(static, seconds, runs)
                entry["ratio"] = ours["rps"] / entry["nginx"]["rps"]
                browser = [f"Accept-Encoding: {BROWSER}"]
                entry["ours_compressed"] = measure(target, seconds, runs, headers=browser, pid=process.pid)
                entry["nginx_compressed"] = measure(static, seconds, runs, headers=browser)
                entry["ratio_compressed"] = entry["ours_compressed"]["rps"] / entry["nginx_compressed"]["rps"]
            results["scenarios"][name] = entry
            cpu = f"  {ours['cpu_us']:.0f} µs CPU" if ours.get("cpu_us") is not None else ""
            log(f"   {name:20} {ours['rps']:>10.0f} req/s  p50 {ours['p50_ms']:.2f} ms  "
                f"p99 {ours['p99_ms']:.2f} ms{cpu}" + (f"  ({entry['ratio']:.0%} of nginx)" if "ratio" in entry else ""))
            if "ours_compressed" in entry:
                coded = entry["ours_compressed"]
                log(f"   {name + ', compressed':20} {coded['rps']:>10.0f} req/s  p50 {coded['p50_ms']:.2f} ms  "
                    f"p99 {coded['p99_ms']:.2f} ms  {coded['cpu_us']:.0f} µs CPU  "
                    f"({entry['ratio_compressed']:.0%} of nginx)")
        results["peak_rss_mb"] = peak_rss_mb(process)
    finally:
        stop(process)
        if conf:
            nginx_stop(conf)
    return results


def markdown(all_results, seconds, runs):
    lines = [
        f"wrk, {CONNECTIONS} connections, 2 threads, {seconds} s per run, median of {runs} runs; "
        "nginx serves the same bytes as a static file (2 workers, keep-alive).",
        "",
        "| backend | articles | scenario | encoding | req/s | p50 ms | p99 ms | CPU µs/req | nginx req/s | ratio |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for key, result in all_results.items():
        backend, size = key.split(":")
        for name, entry in result["scenarios"].items():
            for coding, ours, nginx, ratio in [
                ("identity", entry["ours"], entry.get("nginx"), entry.get("ratio")),
                (BROWSER, entry.get("ours_compressed"), entry.get("nginx_compressed"),
                 entry.get("ratio_compressed")),
            ]:
                if ours is None:
                    continue
                cpu = f"{ours['cpu_us']:.0f}" if ours.get("cpu_us") is not None else "–"
                compared = f"{nginx['rps']:,.0f} | {ratio:.0%}" if nginx else "– | –"
                lines.append(
                    f"| {backend} | {int(size):,} | {name} | {coding} | {ours['rps']:,.0f} | "
                    f"{ours['p50_ms']:.2f} | {ours['p99_ms']:.2f} | {cpu} | {compared} |"
                )
    lines += ["", "| backend | articles | seed s | start-up to ready s | peak RSS MB, reads | peak RSS MB, with logins | deep page |",
              "|---|---|---|---|---|---|---|"]
    for key, result in all_results.items():
        backend, size = key.split(":")
        lines.append(
            f"| {backend} | {int(size):,} | {result['seed_seconds']:.1f} | "
            f"{result['startup_seconds']:.2f} | {result.get('peak_rss_mb_reads', 0):.0f} | "
            f"{result['peak_rss_mb']:.0f} | {result['deep_page_number']} |"
        )
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="1,000 articles, SQLite, 2 s runs, one run")
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--sizes", default="1000,100000")
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--binary", default="",
                        help="measure this newsdesk binary instead of building one (to compare builds)")
    parser.add_argument("--scenarios", default="",
                        help="comma-separated scenarios to run (default: all)")
    args = parser.parse_args()
    if args.quick:
        args.backends, args.sizes, args.seconds, args.runs = "sqlite", "1000", 2, 1
    ONLY.update(s for s in args.scenarios.split(",") if s)
    for tool in ("wrk", "nginx"):
        if not shutil.which(tool) and not os.path.exists(f"/usr/sbin/{tool}"):
            sys.exit(f"{tool} is missing: apt-get install wrk nginx")
    os.makedirs(WORK, exist_ok=True)
    global BINARY
    if args.binary:
        BINARY = os.path.abspath(args.binary)
    else:
        log("== cargo build --release")
        subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    static_root = tempfile.mkdtemp(prefix="newsdesk-static-", dir=WORK)
    os.chmod(static_root, 0o755)
    all_results = {}
    for backend in args.backends.split(","):
        for size in (int(s) for s in args.sizes.split(",")):
            all_results[f"{backend}:{size}"] = run_backend(backend, size, args.seconds, args.runs, static_root)
    output = {"connections": CONNECTIONS, "seconds": args.seconds, "runs": args.runs,
              "results": all_results}
    with open(os.path.join(ROOT, "bench", "results.json"), "w") as f:
        json.dump(output, f, indent=2)
    table = markdown(all_results, args.seconds, args.runs)
    with open(os.path.join(ROOT, "bench", "results.md"), "w") as f:
        f.write(table)
    print(table)


if __name__ == "__main__":
    main()
