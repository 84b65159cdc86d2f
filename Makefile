# The command surface. The README's two set-up commands are `make demo` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help
CARGO ?= cargo

.PHONY: help setup build demo test test-native bench train clean

help:
	@echo "make demo   set up everything, build, and run a short training on real MNIST"
	@echo "make test   set up everything and run every test"
	@echo "make bench  speed figures (JSON)"
	@echo "make train  the authors' settings for one epoch on MNIST (ARGS=... for more flags)"

setup:
	@scripts/setup.sh

build: setup
	$(CARGO) build --release

demo: build
	./target/release/burstccn train --epochs 1

train: build
	./target/release/burstccn train $(ARGS)

test: setup test-native

test-native:
	$(CARGO) test
	$(CARGO) rustc --release --lib --crate-type rlib --no-default-features  # the core builds without std
	$(CARGO) clippy --all-targets -- -D warnings

bench: build
	./target/release/burstccn bench

clean:
	$(CARGO) clean
	rm -rf pkg pkg-* test-output
