# Two commands on a fresh machine: `make generate` and `make test`.
# Each creates (or reuses) .venv from pyproject.toml; python3 and make are all it needs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: generate check lint test mutate bench venv clean

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
	$(PY) -m generator check --root examples/notes
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

bench: $(STAMP)
	$(PY) bench/rls.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis

# Mutation testing of the policy suite: single-change mutants of the migrations, each run
# through the fast policy tests; exits non-zero when one survives (see docs/testing.md).
mutate: $(STAMP)
	$(PY) -m generator.testing.mutate -- tests/policy/test_proof.py -k "not random_requests and not test_case"
