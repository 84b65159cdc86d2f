#!/usr/bin/env bash
# `make test-stress [N=10] [SUITES="models conv"]`: run every page suite (or those named) (the files of package.json's `test:page`) N times
# while one core is kept busy by a load process this script starts and always stops, then print
# how many of the N runs each test passed. Goal: N of N for every test, on a busy machine.
# Logs (TAP, one file per suite and run) go to test-output/stress/.
set -euo pipefail
cd "$(dirname "$0")/.."

N=${N:-${1:-10}}
[[ "$N" =~ ^[1-9][0-9]*$ ]] || { echo "N must be a positive whole number (got '$N')" >&2; exit 2; }
OUT=test-output/stress
say() { printf '\033[1;34m[stress]\033[0m %s\n' "$*"; }

# The page suites, exactly as `npm run test:page` runs them.
mapfile -t FILES < <(node -e '
  const s = require("./package.json").scripts["test:page"];
  for (const w of s.split(/\s+/)) if (/^tests\/page\/.*\.m?js$/.test(w)) console.log(w);')
[ ${#FILES[@]} -gt 0 ] || { echo "no page suites found in package.json's test:page" >&2; exit 2; }
# SUITES="models conv" keeps only those suites (names as in tests/page/<name>.test.mjs).
if [ -n "${SUITES:-}" ]; then
  keep=()
  for name in $SUITES; do
    found=
    for f in "${FILES[@]}"; do [ "$(basename "$f" .test.mjs)" = "$name" ] && keep+=("$f") && found=1; done
    [ -n "$found" ] || { echo "SUITES: no page suite '$name' (have: $(for f in "${FILES[@]}"; do basename "$f" .test.mjs; done | tr '\n' ' '))" >&2; exit 2; }
  done
  FILES=("${keep[@]}")
fi

# One core busy for the whole run: stress-ng where Debian's is installed, else a shell loop.
load_pid=
stop_load() {
  if [ -n "$load_pid" ]; then
    kill "$load_pid" 2>/dev/null || true
    wait "$load_pid" 2>/dev/null || true
    load_pid=
  fi
}
trap stop_load EXIT
trap 'stop_load; exit 130' INT TERM
if command -v stress-ng >/dev/null 2>&1; then
  stress-ng --cpu 1 --quiet &
  load_pid=$!
  load="stress-ng --cpu 1 (pid $load_pid)"
else
  sh -c 'while :; do :; done' &
  load_pid=$!
  load="a shell busy loop (pid $load_pid)"
fi

rm -rf "$OUT" && mkdir -p "$OUT"
say "$N runs of ${FILES[*]}; one core kept busy by $load"
for run in $(seq 1 "$N"); do
  for f in "${FILES[@]}"; do
    log="$OUT/$(basename "$f" .mjs).run$run.tap"
    start=$SECONDS
    if node --test --test-concurrency=1 --test-reporter=tap "$f" > "$log" 2>&1; then status=ok; else status=FAILED; fi
    say "run $run/$N $(basename "$f"): $status ($((SECONDS - start)) s)"
  done
done
stop_load

# Count passes per test from the TAP logs (top-level `ok`/`not ok` lines of each suite).
node - "$OUT" "$N" <<'EOF'
const fs = require('fs');
const path = require('path');
const [dir, n] = [process.argv[2], Number(process.argv[3])];
const counts = new Map();
for (const name of fs.readdirSync(dir).sort()) {
  const m = /^(.*)\.run(\d+)\.tap$/.exec(name);
  if (!m) continue;
  for (const line of fs.readFileSync(path.join(dir, name), 'utf8').split('\n')) {
    const t = /^(not )?ok \d+ - (.*?)(?: # (?:SKIP|TODO).*)?$/.exec(line);
    if (!t) continue;
    const key = `${m[1]}: ${t[2].replace(/\\(.)/g, '$1')}`; // TAP escapes # and \\ in names
    const c = counts.get(key) || { pass: 0, runs: 0 };
    c.runs++;
    if (!t[1]) c.pass++;
    counts.set(key, c);
  }
}
let worst = n;
for (const [key, c] of counts) {
  // A run that crashed before a test reported counts as a failure of that test.
  worst = Math.min(worst, c.pass);
  console.log(`${String(c.pass).padStart(3)} of ${n}  ${key}${c.runs < n ? `  (reported in only ${c.runs} runs)` : ''}`);
}
const all = [...counts.values()].every((c) => c.pass === n);
console.log(`${counts.size} tests; ${all ? `every test passed ${n} of ${n}` : `worst: ${worst} of ${n}`}`);
fs.writeFileSync(path.join(dir, 'summary.json'), `${JSON.stringify({ runs: n, tests: Object.fromEntries(counts) }, null, 2)}\n`);
process.exit(all ? 0 : 1);
EOF
