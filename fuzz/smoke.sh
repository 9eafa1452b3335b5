#!/usr/bin/env bash
# Fuzz smoke run (the CI step): seeds the corpus from the vectors, builds every target, runs
# each one for FUZZ_SECONDS (default 60) with a 256 MiB RSS limit, two at a time, and fails on
# any crash, leak, per-input timeout or out-of-memory. See fuzz/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-40}
jobs=${FUZZ_JOBS:-2}

cargo test -q -p rmt-inspector --test fuzz_corpus
cargo test -q -p rmt-reference --test fuzz_corpus

cd fuzz
# cargo-fuzz passes nightly-only flags (-Zsanitizer=address); the stable toolchain accepts
# them with RUSTC_BOOTSTRAP=1.
export RUSTC_BOOTSTRAP=1
# ASan's free-quarantine defaults to 256 MiB, which alone breaks -rss_limit_mb=256 on targets
# that free large buffers (the capped 16 MiB inflate buffer); 32 MiB keeps use-after-free
# detection and leaves the limit for our own memory.
export ASAN_OPTIONS=${ASAN_OPTIONS:-quarantine_size_mb=32}
cargo fuzz build -O
bin=target/x86_64-unknown-linux-gnu/release
logs=$(mktemp -d)

run_target() {
  local t=$1
  mkdir -p "corpus/$t" "artifacts/$t"
  # The outer timeout bounds a target that hangs outside libFuzzer's per-input watchdog.
  if timeout $((seconds + 120)) "$bin/$t" "corpus/$t" -max_total_time="$seconds" \
      -rss_limit_mb=256 -timeout=10 -artifact_prefix="artifacts/$t/" -print_final_stats=1 \
      >"$logs/$t.log" 2>&1; then
    printf '%-16s ok   %s\n' "$t" "$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$logs/$t.log" | grep -o '[0-9]*$') execs"
  else
    printf '%-16s FAIL (log below)\n' "$t"
    tail -40 "$logs/$t.log"
    return 1
  fi
}
export -f run_target
export seconds bin logs
cargo fuzz list | xargs -P "$jobs" -I{} bash -c 'run_target {}'
