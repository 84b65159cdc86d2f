#!/usr/bin/env bash
# The threaded wasm build → pkg-threads/: shared memory and atomics (wasm threads), with the
# relaxed-simd kernels, for pages that are cross-origin isolated (www/threads.js loads it).
# Needs the nightly toolchain with rust-src (scripts/setup.sh adds it): the standard library
# must be rebuilt with atomics (-Z build-std), which the shipped wasm32 std is not.
# wasm-pack cannot pass -Z flags to its own cargo call, so cargo, wasm-bindgen and wasm-opt
# are called directly (the same versions wasm-pack uses for the other builds).
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '\033[1;34m[wasm-threads]\033[0m %s\n' "$*"; }

# 1 GiB at most: shared memory needs a maximum, reserved up front by the browser (MNIST and
# the network use ~65 MiB; CIFAR-10 184 MiB more).
MAX_MEMORY=$((1 << 30))
out=pkg-threads
target=target/threads
started=$(date +%s)
say "cargo +nightly build -Z build-std (atomics, bulk-memory, simd128, relaxed-simd) → $out"
# The linker flags give one memory shared by every instance (imported, so all pool workers get
# the same one) and the thread-local storage hooks wasm-bindgen's thread support calls.
link=(--shared-memory --import-memory "--max-memory=$MAX_MEMORY"
      --export=__wasm_init_tls --export=__tls_size --export=__tls_align --export=__tls_base)
CARGO_TARGET_DIR=$target RUSTFLAGS="-C target-feature=+atomics,+bulk-memory,+mutable-globals,+simd128,+relaxed-simd ${link[*]/#/-C link-arg=}" \
  cargo +nightly build --quiet --release --lib --target wasm32-unknown-unknown \
    -Z build-std=panic_abort,std --config 'profile.release.panic="abort"' \
    --no-default-features --features threads
raw=$target/wasm32-unknown-unknown/release/burstccn.wasm
# cargo relinks only when something changed: skip bindgen and wasm-opt (most of a no-op run).
if [ "$out/burstccn_bg.wasm" -nt "$raw" ] && [ "$out/burstccn.js" -nt "$raw" ]; then
  say "$out/ is up to date"
  exit 0
fi
# Into a scratch directory first, so a failed step never leaves a half-made build behind.
tmp=$target/pkg-threads.partial
rm -rf "$tmp"
wasm-bindgen --target web --no-typescript --out-dir "$tmp" "$raw"
wasm-opt -O3 --enable-threads --enable-simd --enable-relaxed-simd --enable-bulk-memory --enable-nontrapping-float-to-int \
  --enable-sign-ext --enable-mutable-globals "$tmp/burstccn_bg.wasm" -o "$tmp/burstccn_bg.wasm"

# The module must really share its memory and use the SIMD kernels.
dump=$(wasm-objdump -x -j Import "$tmp/burstccn_bg.wasm")
grep -q 'memory.*shared' <<<"$dump" || { echo "error: $out does not import a shared memory" >&2; exit 1; }
relaxed=$(wasm-objdump -d "$tmp/burstccn_bg.wasm" | grep -c 'f32x4.relaxed_madd' || true)
atomics=$(wasm-objdump -d "$tmp/burstccn_bg.wasm" | grep -c 'memory.atomic.wait32' || true)
say "$out/: shared memory, $relaxed f32x4.relaxed_madd, $atomics memory.atomic.wait32; $(stat -c %s "$tmp/burstccn_bg.wasm") bytes; $(( $(date +%s) - started )) s"
if [ "$relaxed" -lt 10 ] || [ "$atomics" -lt 1 ]; then
  echo "error: $out lacks the expected relaxed-simd or atomic wait instructions" >&2
  exit 1
fi
mkdir -p "$out" && mv "$tmp/burstccn_bg.wasm" "$tmp/burstccn.js" "$out/" && rm -rf "$tmp"
