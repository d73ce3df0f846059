# Gongkai — the README's two commands are `make run` and `make test`; both set everything up.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)
HOST ?= 127.0.0.1
PORT ?= 5000
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

.PHONY: run test test-postgres lint bench sysdeps sysdeps-test install clean diagram

$(STAMP): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	@$(PY) -m pip install -q --upgrade pip
	@$(PY) -m pip install -q -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

install: $(STAMP)

sysdeps:
	@bash scripts/install-system-deps.sh

sysdeps-test:
	@bash scripts/install-system-deps.sh --with-browser

## make run: embedded SQLite under var/, demo data on first start, web app on $(HOST):$(PORT)
run: $(STAMP) sysdeps
	@mkdir -p var
	@$(BIN)/gongkai db upgrade
	@$(BIN)/gongkai demo --if-empty
	@$(BIN)/gongkai serve --host $(HOST) --port $(PORT)

## make test: the whole suite on SQLite (and on PostgreSQL too when GONGKAI_TEST_DATABASE_URL is set)
test: $(STAMP) sysdeps-test
	@$(BIN)/pytest -n 2 -p no:cacheprovider

test-postgres: $(STAMP) sysdeps-test
	@GONGKAI_TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/pytest -n 2 -p no:cacheprovider -m "postgres or not browser" tests/integration tests/e2e

lint: $(STAMP)
	@$(BIN)/ruff check .
	@$(BIN)/lint-imports
	@$(BIN)/gongkai db check

bench: $(STAMP)
	@bash scripts/install-system-deps.sh --with-libreoffice
	@for b in bench/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

diagram: $(STAMP)
	@$(BIN)/gongkai workflow diagram > docs/workflow.mmd

clean:
	rm -rf $(VENV) var/*.sqlite3 .pytest_cache
