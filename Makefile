# Two commands on a fresh machine: `make generate` and `make test`.
# Each creates (or reuses) .venv from pyproject.toml; python3 and make are all it needs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.installed-bench

.PHONY: generate check lint test bench venv clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

generate: $(STAMP)
	$(PY) -m generator generate

check: $(STAMP)
	$(PY) -m generator check
	$(MAKE) --no-print-directory lint

# Our tenancy rules, then squawk for migration safety (docs/lint.md says which checks what).
# prefer-bigint-over-int: counters are integers by design; the timeout rules want
# `set local` timeouts that mean nothing outside a transaction.
lint: $(STAMP)
	$(PY) -m generator lint supabase/migrations
	$(VENV)/bin/squawk --assume-in-transaction --pg-version=15.0 \
	  --exclude=prefer-bigint-over-int,require-lock-timeout,require-statement-timeout \
	  supabase/migrations/*.sql

test: $(STAMP)
	$(PY) -m pytest

# The bench extra (matplotlib, for the plot) is installed here only, never by `make venv`.
$(BENCH_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e '.[test,bench]'
	touch $(BENCH_STAMP)

# BENCH_ARGS passes options through, e.g. make bench BENCH_ARGS="--quick --scenarios skewed".
bench: $(BENCH_STAMP)
	$(PY) bench/rls.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
