#!/usr/bin/env bash
# Starts newsdesk on a fresh demo database and runs the Swagger UI browser test
# against it. Needs /usr/bin/chromium and `npm ci` in this folder.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
work="$(mktemp -d)"
port="${SWAGGER_TEST_PORT:-18765}"

cargo build --quiet --manifest-path "$root/Cargo.toml"
DATABASE_URL="sqlite://$work/newsdesk.db" BIND_ADDR="127.0.0.1:$port" RUST_LOG=warn \
    "$root/target/debug/newsdesk" serve >"$work/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$work"' EXIT

for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$port/health/ready" >/dev/null && break
    sleep 0.1
done
curl -sf "http://127.0.0.1:$port/health/ready" >/dev/null || {
    cat "$work/server.log" >&2
    exit 1
}

node "$here/swagger-ui.js" "http://127.0.0.1:$port" "$root/target/swagger-ui.png"
