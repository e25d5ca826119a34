# The two commands a newcomer needs: `make demo` and `make test`. Both set up everything first.
VENV ?= .venv
PY := $(VENV)/bin/python
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: setup demo test test-speed-layer-off lint typecheck check schema bench bench-scale bench-instructions bench-emulators bench-peer

setup:
	bash scripts/setup.sh

demo: setup
	$(VENV)/bin/gateway demo --port $(or $(PORT),8000)

test: setup
	$(PY) -m pytest

# The suites that go through the schema, again on Strawberry's own path (Settings.speed_layer off).
test-speed-layer-off: setup
	GATEWAY_TEST_SPEED_LAYER=off $(PY) -m pytest tests/schema tests/http tests/e2e

lint:
	$(VENV)/bin/ruff check gateway sandbox tests bench
	$(VENV)/bin/ruff format --check gateway sandbox tests bench

typecheck:
	$(VENV)/bin/mypy

check: lint typecheck

schema:
	$(VENV)/bin/gateway export-schema > schema.graphql

bench: setup
	$(PY) -m bench.run
	$(PY) -m bench.scale

# The synced index at 10k, 100k and 1M deleted contacts per provider (issue 13); also part of `make bench`.
bench-scale: setup
	$(PY) -m bench.scale

# Deterministic companion to section 2 (needs valgrind and a C compiler): instructions, not time.
bench-instructions: setup
	$(PY) -m bench.instructions

# How fast the emulators answer their biggest reads (the tests check what they answer, not how fast).
bench-emulators: setup
	$(PY) -m bench.emulator_speed
	$(PY) -m bench.emulator_seed --contacts 1000000

# Against Hive Gateway + GraphQL Mesh on the same emulators (issue 16): its section of BENCHMARKS.md.
# Needs only the Python step of setup; the peer itself is installed from npm by the benchmark.
bench-peer:
	bash scripts/setup.sh python
	$(PY) -m bench.peer
