# Gongkai — the README's two commands are `make run` and `make test`; both set everything up.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml requirements.lock | sha1sum | cut -c1-12)
HOST ?= 127.0.0.1
PORT ?= 5000
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

.PHONY: run test test-postgres test-lowest check-wheel lint lock bench sysdeps sysdeps-test install clean diagram

# The locked versions (requirements.lock, what CI passed with) constrain every install; `make lock` renews them.
$(STAMP): pyproject.toml requirements.lock
	@test -x $(PY) || python3 -m venv $(VENV)
	@$(PY) -m pip install -q --upgrade pip
	@$(PY) -m pip install -q -c requirements.lock -e '.[dev,postgres]'
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

## make lock: re-resolve every dependency (after changing pyproject.toml) into requirements.lock
lock:
	@test -x $(BIN)/uv || { test -x $(PY) || python3 -m venv $(VENV); $(PY) -m pip install -q uv; }
	@$(BIN)/uv pip compile -q pyproject.toml --extra dev --extra postgres --python-version 3.11 --universal \
		-o requirements.lock
	@echo "requirements.lock renewed"

## make test-lowest: the lowest versions pyproject.toml allows (uv --resolution lowest-direct) pass the unit suite
## and the integration tests that exercise the libraries most (Flask, WeasyPrint, pydyf, uharfbuzz, pypdf)
test-lowest: $(STAMP)
	@rm -rf .venv-lowest
	@$(BIN)/uv venv -q -p python3.11 .venv-lowest
	@$(BIN)/uv pip install -q --python .venv-lowest/bin/python --resolution lowest-direct -e '.[dev,postgres]'
	@.venv-lowest/bin/pytest -n 2 -p no:cacheprovider -q tests/unit tests/integration/test_api_contract.py \
		tests/integration/test_letter_rendering.py tests/integration/test_casefile_pages.py \
		tests/integration/test_archive_export.py tests/integration/test_archive_notes_and_web.py
	@rm -rf .venv-lowest

## make check-wheel: the built wheel, installed outside the checkout, runs deadline, db upgrade and letter samples
check-wheel: $(STAMP)
	@bash scripts/check-wheel.sh

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
	rm -rf $(VENV) .venv-lowest var/*.sqlite3 .pytest_cache
