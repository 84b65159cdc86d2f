#!/usr/bin/env bash
# Run each fuzz target for SECONDS seconds, one after another, and print libFuzzer's counts.
#   fuzz/run.sh SECONDS [TARGET...]      (default: every target in fuzz/Cargo.toml)
#   FUZZ_RUNS=1000000 fuzz/run.sh SECONDS ... each target until that many executions (`make fuzz SECONDS=3600 FUZZ_RUNS=1000000`)
# Each target starts from its committed seeds (fuzz/seeds/<target>) and keeps what it learns
# in fuzz/corpus/<target> (not committed). A crash stops the run: libFuzzer prints the input's
# path under fuzz/artifacts/<target>/; minimise it with `cargo +nightly fuzz tmin <target> <file>`
# and add it to tests/fuzz_regressions.rs.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}; shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(sed -n 's/^name = "\(.*\)"$/\1/p' fuzz/Cargo.toml | grep -v '^burstccn-fuzz$')
export PATH="$HOME/.cargo/bin:$PATH"
cargo +nightly fuzz build  # (overflow checks and debug assertions on, AddressSanitizer)
summary=()
for t in "${targets[@]}"; do
  mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t"
  log="fuzz/artifacts/$t/last-run.log"
  echo "fuzz: $t for ${seconds} s"
  # -rss_limit_mb: a configuration that validates must build in well under 2 GiB.
  if ! cargo +nightly fuzz run "$t" "fuzz/corpus/$t" "fuzz/seeds/$t" -- \
      -max_total_time="$seconds" ${FUZZ_RUNS:+-runs="$FUZZ_RUNS"} -print_final_stats=1 -rss_limit_mb=2048 -timeout=60 > "$log" 2>&1; then
    tail -n 60 "$log"
    echo "fuzz: $t FAILED (log: $log)"
    exit 1
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  corpus=$(find "fuzz/corpus/$t" -type f | wc -l)
  summary+=("$(printf '%-18s %10s executions  %6s/s  0 crashes  %5s inputs in the corpus' "$t" "$runs" "$speed" "$corpus")")
done
printf 'fuzz: %s\n' "${summary[@]}"
