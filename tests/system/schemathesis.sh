#!/usr/bin/env bash
# Runs schemathesis against newsdesk, from the OpenAPI document the server
# itself serves: every check, every phase (examples, coverage, fuzzing,
# stateful), once as an API-key partner, once as a reader and once as an
# admin (who is also an editor). Fails on any finding.
#
#   bash tests/system/schemathesis.sh sqlite|postgres
#
# Needs schemathesis in target/schemathesis-venv (see .ci/run) and, for postgres,
# PostgreSQL on 127.0.0.1:5432 (user postgres).
set -euo pipefail
backend="${1:-sqlite}"
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
work="$(mktemp -d)"
port="${SCHEMATHESIS_PORT:-18766}"
base="http://127.0.0.1:$port"
st="$root/target/schemathesis-venv/bin/st"
examples="${SCHEMATHESIS_MAX_EXAMPLES:-25}"
password="schemathesis passphrase 1"

case "$backend" in
sqlite) database="sqlite://$work/newsdesk.db" ;;
postgres)
    pg="postgres://postgres@127.0.0.1:5432"
    psql -q "$pg/postgres" -c "DROP DATABASE IF EXISTS newsdesk_schemathesis WITH (FORCE)"
    psql -q "$pg/postgres" -c "CREATE DATABASE newsdesk_schemathesis"
    database="$pg/newsdesk_schemathesis?sslmode=disable"
    ;;
*)
    echo "usage: $0 sqlite|postgres" >&2
    exit 2
    ;;
esac

export DATABASE_URL="$database" BIND_ADDR="127.0.0.1:$port" RUST_LOG=warn \
    SEED_DEMO=true PAYMENT_PROVIDER=test RATE_LIMIT_ANONYMOUS_PER_MINUTE=0 RATE_LIMIT_USER_PER_MINUTE=0 \
    REGISTRATIONS_PER_ADDRESS_PER_HOUR=0 \
    JWT_SECRET="schemathesis-secret-schemathesis-secret-0123" \
    RESPONSE_CACHE_TTL_MS=0 ACCESS_TOKEN_TTL=3600

cargo build --quiet --manifest-path "$root/Cargo.toml"
"$root/target/debug/newsdesk" serve >"$work/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$work"' EXIT

for _ in $(seq 1 100); do
    curl -sf "$base/health/ready" >/dev/null && break
    sleep 0.1
done
curl -sf "$base/health/ready" >/dev/null || {
    cat "$work/server.log" >&2
    exit 1
}

json_field() { python3 -c "import json, sys; print(json.load(sys.stdin)$1)"; }

printf '%s' "$password" |
    "$root/target/debug/newsdesk" create-admin --email admin@example.com --password-stdin >/dev/null
admin=$(curl -sf "$base/api/v1/auth/login" -H 'content-type: application/json' \
    -d "{\"email\":\"admin@example.com\",\"password\":\"$password\"}" | json_field '["access_token"]')
reader=$(curl -sf "$base/api/v1/auth/register" -H 'content-type: application/json' \
    -d "{\"email\":\"reader@example.com\",\"password\":\"$password\",\"display_name\":\"Reader\"}" |
    json_field '["access_token"]')
key=$(curl -sf "$base/api/v1/admin/api-keys" -H 'content-type: application/json' \
    -H "authorization: Bearer $admin" \
    -d '{"name":"Schemathesis partner","scopes":["content:read"],"rate_limit_per_minute":100000}' | json_field '["secret"]')

run() {
    local who="$1"
    shift
    echo "-- schemathesis on $backend as $who"
    "$st" --config-file "$here/schemathesis.toml" run "$base/api/v1/openapi.json" \
        --checks all \
        --max-examples "$examples" \
        --seed "${SCHEMATHESIS_SEED:-20261129}" \
        --generation-deterministic \
        --request-timeout 10 \
        --no-color \
        "$@"
}

status=0
run partner --header "X-API-Key: $key" || status=1
run reader --header "Authorization: Bearer $reader" || status=1
run admin --header "Authorization: Bearer $admin" || status=1
if [ "$status" -ne 0 ]; then
    tail -50 "$work/server.log" >&2
fi
exit "$status"
