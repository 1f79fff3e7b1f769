# Two commands on a fresh machine: `make generate` and `make test`.
# Each creates (or reuses) .venv from pyproject.toml; python3 and make are all it needs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

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

lint: $(STAMP)
	$(PY) -m generator lint supabase/migrations

test: $(STAMP)
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) bench/rls.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
