# Two commands on a fresh machine: `make generate` and `make test`.
# Each creates (or reuses) .venv from pyproject.toml; python3 and make are all it needs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.installed-bench

.PHONY: generate check diff hash adopt lint test prove mutate bench venv clean

# make generate NAME=add_job_notes ALLOW_DESTRUCTIVE=1 ALLOW_NARROWING=1
GENERATE_FLAGS := $(if $(NAME),--name $(NAME)) $(if $(ALLOW_DESTRUCTIVE),--allow-destructive) $(if $(ALLOW_NARROWING),--allow-narrowing)

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# Writes the next migration when the specs changed; never rewrites an existing one.
generate: $(STAMP)
	$(PY) -m tenantspec generate $(GENERATE_FLAGS)

# The pending change for a reviewer: words, access delta, SQL. tenantspec diff exits 1 when
# something is pending (for scripts); here that is no error, only 2 (bad input) is.
diff: $(STAMP)
	@$(PY) -m tenantspec diff $(if $(NAME),--name $(NAME)) $(if $(FORMAT),--format $(FORMAT)); \
	status=$$?; [ $$status -le 1 ] || exit $$status

# Record the generated migrations' checksums again, after merging two branches' migrations.
hash: $(STAMP)
	$(PY) -m tenantspec hash

# Specs for tables hand-written migrations created: make adopt TABLES="carrier_configs robot_jobs"
adopt: $(STAMP)
	$(PY) -m tenantspec adopt $(TABLES) $(if $(FORCE),--force)

check: $(STAMP)
	$(PY) -m tenantspec check
	cd generator && ../$(VENV)/bin/lint-imports ../pyproject.toml
	$(PY) -m tenantspec check --root examples/notes
	$(PY) -m tenantspec check --root examples/forum
	$(MAKE) --no-print-directory lint

# Our tenancy rules, then squawk for migration safety (docs/lint.md says which checks what).
# squawk's settings, and why each excluded rule is excluded, are in .squawk.toml.
lint: $(STAMP)
	$(PY) -m tenantspec lint supabase/migrations
	$(VENV)/bin/squawk --config .squawk.toml supabase/migrations/*.sql

# One worker per core (at most four), each with its own embedded server. The suite starts
# Python subprocesses (the CLI, projects' proofs): they reuse compiled bytecode even where the
# environment sets PYTHONDONTWRITEBYTECODE, which otherwise recompiles every import each time.
test: $(STAMP)
	PYTHONDONTWRITEBYTECODE= $(PY) -m pytest -n auto --maxprocesses=4

# The app's proof alone: the policy tests of schema/ and supabase/migrations (make test runs it too).
prove: $(STAMP)
	$(PY) -m tenantspec prove

# The bench extra (matplotlib, for the plot) is installed here only, never by `make venv`.
$(BENCH_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e '.[test,bench]'
	touch $(BENCH_STAMP)

# BENCH_ARGS passes options through, e.g. make bench BENCH_ARGS="--quick --scenarios skewed".
bench: $(BENCH_STAMP)
	$(PY) bench/rls.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis

# Mutation testing of the policy suite: single-change mutants of the migrations, each run
# through the fast policy tests, then through the proof exported as pgTAP (a second judge,
# as `supabase test db` would run it; needs pgTAP from a package); exits non-zero when one
# survives either (see docs/testing.md).
mutate: $(STAMP)
	$(PY) -m tenantspec.testing.mutate -- tests/policy/test_proof.py -k "not random_requests and not test_case and not fresh_render and not hold_the_specs"
	rm -rf .cache/pgtap-export
	$(PY) -m tenantspec prove --export-pgtap .cache/pgtap-export -- -q
	$(PY) -m tenantspec.testing.mutate --pgtap .cache/pgtap-export
