# Ordergate: the two commands of the README.
#   make run   installs what is missing, builds, and runs the daemon (ordergate serve) on the embedded defaults
#   make test  installs what is missing, builds, and runs the whole test suite
SWIFT ?= swift

.PHONY: run test build setup lint

setup:
	@scripts/setup.sh

build: setup
	$(SWIFT) build -c release --product ordergate

# Checks the mappings; the first time (no database yet) loads the sample business data of examples/data/ and drops
# the sample partners' purchase orders into their inbox folders; then runs the daemon in the foreground on the
# embedded defaults (Ctrl-C stops it cleanly).
run: build
	.build/release/ordergate mappings check mappings
	@if [ ! -f data/ordergate.sqlite ]; then \
		for kind in items nodes prices contracts credit stock locations; do \
			.build/release/ordergate import $$kind examples/data/$$kind.csv || exit 1; \
		done; \
		mkdir -p inbox/acme inbox/nordhandel inbox/procurenet; \
		cp examples/acme/850-po-7731045.edi inbox/acme/; \
		cp examples/nordhandel/orders-4500098765.edi inbox/nordhandel/; \
		cp examples/procurenet/orderrequest-PN-PO-2026-000871.xml inbox/procurenet/; \
		echo "run: the sample orders are in inbox/; their acknowledgements (997, CONTRL, 855, ORDRSP, cXML) will appear in outbox/"; \
		echo "run: see what was decided with: .build/release/ordergate orders list / orders show ID / holds list"; \
	fi
	.build/release/ordergate serve

test: setup
	python3 scripts/embed-schemas.py --check
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --parallel
	python3 scripts/crash-test.py --runs 2 --kills 5 --files 150
	$(SWIFT) format lint --strict --recursive Package.swift Sources Tests

lint:
	$(SWIFT) format lint --strict --recursive Package.swift Sources Tests
