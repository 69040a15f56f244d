# Tashil — the two commands users need are `make run` and `make test`.
# Every target sets up what is missing first, so a fresh clone needs nothing else.

SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.9
VENV := .venv
PY := $(VENV)/bin/python
UV := var/tools/bin/uv
HOST ?= 127.0.0.1
PORT ?= 8000
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: setup run test bench lint seed worker clean mutation

setup: $(VENV)/.synced var/vendor/.copied var/.locale

$(UV):
	$(PYTHON) -m venv var/tools
	var/tools/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --python "$$($(PYTHON) -c 'import sys; print(sys.executable)')"
	@touch $@

# The benchmarks also need the `bench` group (django-import-export). A plain
# sync removes it again, so this one is redone whenever .synced is.
$(VENV)/.synced-bench: $(VENV)/.synced
	$(UV) sync --frozen --all-groups --python "$$($(PYTHON) -c 'import sys; print(sys.executable)')"
	@touch $@

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

var/vendor/.copied: node_modules/.package-lock.json scripts/copy_assets.mjs
	node scripts/copy_assets.mjs

var/.locale: $(VENV)/.synced $(wildcard locale/*/LC_MESSAGES/django.po)
	$(PY) manage.py compile_translations
	@touch $@

run: setup
	$(PY) manage.py migrate --no-input
	$(PY) manage.py seed_demo
	@# Imports, exports and notifications run in a background worker, and the
	@# scheduler enqueues the periodic jobs (escalation, clean-ups); both
	@# start and stop with the development server.
	$(PY) manage.py db_worker --no-reload & worker=$$!; \
	$(PY) manage.py scheduler & scheduler=$$!; \
	trap 'kill $$worker $$scheduler 2>/dev/null' EXIT INT TERM; \
	$(PY) manage.py runserver $(HOST):$(PORT)

# The suite runs in parallel (pytest-xdist), one worker per CPU; each test file
# stays on one worker, so module- and class-scoped fixtures are built once.
# `make test PYTEST_WORKERS=0` runs it in this one process instead.
PYTEST_WORKERS ?= auto

test: setup
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

bench: setup $(VENV)/.synced-bench
	@for b in bench/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# Mutation testing of the date, text and duplicate arithmetic (see
# [tool.mutmut] in pyproject.toml and docs/benchmarks.md). Far too slow for
# CI on two cores; run it by hand after changing those modules. Results are
# kept in mutants/, so a second run only retests what changed.
MUTATION_CHILDREN ?= 2
mutation: setup
	TASHIL_VAR_DIR=$(CURDIR)/var $(VENV)/bin/mutmut run --max-children $(MUTATION_CHILDREN)
	$(PY) scripts/mutation_scores.py

# Another worker, with its own scheduler: any number may run.
worker: setup
	$(PY) manage.py scheduler & scheduler=$$!; \
	trap 'kill $$scheduler 2>/dev/null' EXIT INT TERM; \
	$(PY) manage.py db_worker

clean:
	rm -rf $(VENV) var node_modules
