# Ordergate: the two commands of the README.
#   make run   installs what is missing, builds, and runs the product
#   make test  installs what is missing, builds, and runs the whole test suite
SWIFT ?= swift
SAMPLE ?= Tests/EDISyntaxTests/Fixtures/corpus/x12/850-po-ediengine.edi

.PHONY: run test build setup lint

setup:
	@scripts/setup.sh

build: setup
	$(SWIFT) build -c release --product ordergate

run: build
	.build/release/ordergate --help
	.build/release/ordergate validate $(SAMPLE)
	.build/release/ordergate mappings check mappings
	.build/release/ordergate translate examples/acme/850-po-7731045.edi

test: setup
	python3 scripts/embed-schemas.py --check
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --parallel
	$(SWIFT) format lint --strict --recursive Package.swift Sources Tests

lint:
	$(SWIFT) format lint --strict --recursive Package.swift Sources Tests
