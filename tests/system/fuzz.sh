#!/usr/bin/env bash
# Runs every cargo-fuzz target for a bounded time (FUZZ_SECONDS each,
# default 30), starting from the committed seeds in fuzz/seeds/<target>; what
# the fuzzer learns is kept in target/fuzz-corpus/<target>. A crash fails the
# run and leaves its input in fuzz/artifacts/<target>/; turn it into a
# regression test before fixing it.
#
#   bash tests/system/fuzz.sh [target...]
#
# Needs cargo-fuzz (cargo install cargo-fuzz --locked). The stable toolchain
# builds the targets with RUSTC_BOOTSTRAP=1; no sanitizer is needed, as the
# crate forbids unsafe code, so what is looked for are panics, overflows
# (debug assertions on) and broken invariants the targets assert.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
seconds="${FUZZ_SECONDS:-30}"
cd "$root/fuzz"
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(cargo fuzz list)
fi
export RUSTC_BOOTSTRAP=1
flags=(--sanitizer none --debug-assertions --target-dir "$root/target/fuzz")
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
if ! cargo fuzz build "${flags[@]}" >"$log" 2>&1; then
    tail -40 "$log" >&2
    exit 1
fi
for target in "${targets[@]}"; do
    corpus="$root/target/fuzz-corpus/$target"
    mkdir -p "$corpus" "seeds/$target"
    if ! cargo fuzz run "${flags[@]}" "$target" "$corpus" "seeds/$target" -- \
        -max_total_time="$seconds" -max_len=4096 >"$log" 2>&1; then
        tail -40 "$log" >&2
        echo "FAIL: fuzz target $target crashed; the input is in fuzz/artifacts/$target/" >&2
        exit 1
    fi
    echo "fuzz $target: $(grep -E '^Done [0-9]+ runs' "$log" | tail -1)"
done
