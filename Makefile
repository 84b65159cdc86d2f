# The command surface. The README's two set-up commands are `make demo` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help
CARGO ?= cargo

.PHONY: help setup build wasm wasm-threads demo serve dist test test-native test-wasm test-page test-stress bench bench-native bench-startup soak train clean

WASM_FEATURES := --no-default-features --features wasm
export CHROMEDRIVER ?= /usr/bin/chromedriver

help:
	@echo "make demo   set up everything, build the wasm engine and the page, serve http://localhost:8080"
	@echo "make test   set up everything and run every test"
	@echo "make bench  speed figures (JSON)"
	@echo "make train  the authors' settings for one epoch on MNIST (ARGS=... for more flags)"

setup:
	@scripts/setup.sh

build: setup
	$(CARGO) build --release

wasm: setup
	scripts/build-wasm.sh

# The threaded build (pkg-threads/: wasm threads + relaxed SIMD, nightly -Z build-std), loaded
# only where the page is cross-origin isolated. About 4 minutes from clean on 2 cores.
wasm-threads: setup
	scripts/build-wasm-threads.sh

demo: wasm wasm-threads serve

# Cross-origin isolated (COOP/COEP/CORP), so the page trains on every core.
serve:
	node www/serve.mjs --port 8080 --isolated

# A self-contained static site in dist/ for any static host, with `_headers` (Netlify /
# Cloudflare Pages syntax) giving the Content-Security-Policy, nosniff, cross-origin isolation
# (COOP/COEP/CORP: the threaded engine) and the data's caching; other hosts: see the README,
# "Hosting it".
dist: wasm wasm-threads
	rm -rf dist && mkdir -p dist/data dist/vendor
	cp www/*.html www/*.css dist/ && cp $(filter-out www/serve.mjs,$(wildcard www/*.js)) dist/
	cp -r pkg pkg-relaxed pkg-threads dist/ && rm -f dist/pkg*/.gitignore
	cp target/www-data/*.gz dist/data/
	cp -r node_modules/uplot/dist dist/vendor/uplot
	cp -r node_modules/wasm-feature-detect/dist dist/vendor/wasm-feature-detect
	node www/serve.mjs --headers-file > dist/_headers
	@echo "static site in dist/ ($$(du -sh dist | cut -f1))"

train: build
	./target/release/burstccn train $(ARGS)

test: setup test-native test-wasm test-page fuzz-smoke

# The wasm tests run in headless Chromium, once per SIMD build (relaxed-simd in its own target
# dir so the two builds do not invalidate each other).
test-wasm:
	wasm-pack test --headless --chrome --release -- $(WASM_FEATURES) --test wasm --test wasm_conv
	CARGO_TARGET_DIR=target/relaxed RUSTFLAGS="-C target-feature=+simd128,+relaxed-simd" \
	  wasm-pack test --headless --chrome --release -- $(WASM_FEATURES) --test wasm --test wasm_conv

test-native:
	$(CARGO) test
	$(CARGO) rustc --release --lib --crate-type rlib --no-default-features  # the core builds without std
	$(CARGO) clippy --all-targets -- -D warnings
	$(CARGO) clippy --target wasm32-unknown-unknown --lib $(WASM_FEATURES) -- -D warnings
	$(MAKE) --no-print-directory clippy-threads

# The threaded build's code (the wasm thread team, src/wasm_threads.rs) only compiles with
# atomics: nightly clippy with -Z build-std (2–4 min from clean). rustc warns that `atomics` is
# an unstable target feature: expected, it is what nightly is for here.
.PHONY: clippy-threads
clippy-threads: setup
	CARGO_TARGET_DIR=target/threads RUSTFLAGS="-C target-feature=+atomics,+bulk-memory,+mutable-globals,+simd128,+relaxed-simd" \
	  cargo +nightly clippy --quiet --target wasm32-unknown-unknown -Z build-std=panic_abort,std --lib \
	  --no-default-features --features threads -- -D warnings

# Browser (scalar wasm, simd128, relaxed-simd in a Web Worker) and native, one JSON summary.
# The page, served exactly as `make demo` serves it, in headless Chromium (Playwright).
test-page: wasm wasm-threads
	npm run --silent test:page

# The page suites N times (default 10) with one core kept busy; prints the pass count per test.
# SUITES="models conv" runs only those suites.
N ?= 10
test-stress: wasm wasm-threads
	N=$(N) SUITES="$(SUITES)" scripts/stress.sh

# Fuzzing (cargo-fuzz on the nightly toolchain, libFuzzer): each fuzz/ target for SECONDS
# seconds, one after another, from its committed seeds (fuzz/seeds) and what earlier runs
# kept (fuzz/corpus); prints the executions per target. A crash stops it, naming the input.
SECONDS ?= 60
.PHONY: fuzz fuzz-smoke
fuzz: setup
	fuzz/run.sh $(SECONDS)

# The short run of every target that `make test` includes (the nightly build of fuzz/ and
# 20 s per target: a few minutes).
fuzz-smoke: setup
	fuzz/run.sh 20

bench: build
	BUILD_SCALAR=1 scripts/build-wasm.sh
	scripts/build-wasm-threads.sh
	node bench/run.mjs

bench-native: build
	./target/release/burstccn bench

# Start-up on a slow network (CDP throttling: 10 Mbit/s, 40 ms): seconds to the first training
# step and to 90 % test accuracy, and what a second visit downloads. RUNS=5; JSON.
RUNS ?= 5
bench-startup: wasm
	node bench/startup.mjs --runs $(RUNS)

# The page trains for MINUTES minutes (default 30) with its views, the pad and evaluations in
# use; memory and samples/s every minute (JSON, test-output/soak.json). Not part of `make test`.
MINUTES ?= 30
soak: wasm
	node tests/soak/soak.mjs --minutes $(MINUTES)

clean:
	$(CARGO) clean
	rm -rf pkg pkg-* test-output
