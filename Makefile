# The commands people type. Everything installs into .venv on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
PORT ?= 8000
export PORT
.DEFAULT_GOAL := help

.PHONY: help run dev test e2e lint format bench loadtest fuzz check-deploy install install-test migrate seed clean check

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed pyproject.toml
	$(PIP) install --quiet -e ".[test]"
	touch $@

$(VENV)/.installed-e2e: $(VENV)/.installed-test pyproject.toml
	$(PIP) install --quiet -e ".[test,e2e]"
	touch $@

## make help: list the commands.
help:
	@grep -E '^## make ' $(MAKEFILE_LIST) | sed 's/^## //'

install: $(VENV)/.installed

## make run: install, migrate, load demo data, collect static files, serve with gunicorn + worker.
run: $(VENV)/.installed
	./scripts/run.sh

## make dev: the same with Django's development server, reloading on code changes.
dev: $(VENV)/.installed
	WEB_SERVER=runserver ./scripts/run.sh

## make test: the whole suite (SQLite; PostgreSQL when DATABASE_URL is set).
test: $(VENV)/.installed-test
	$(VENV)/bin/pytest $(PYTEST_ARGS)

## make e2e: browser tests in Debian's Chromium (installed when missing and root).
e2e: $(VENV)/.installed-e2e
	./scripts/ensure-chromium.sh
	$(VENV)/bin/pytest tests/e2e -p no:cacheprovider $(PYTEST_ARGS)

## make lint: ruff (lint and format check), the import-layer contracts, mypy and the duplicate-code check.
lint: $(VENV)/.installed-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy
	$(VENV)/bin/pylint --recursive=y --disable=all --enable=duplicate-code \
	  --min-similarity-lines=8 --ignore=migrations --score=n \
	  lms courses exams certificates partners cms bench scripts

## make format: rewrite the code in ruff's format and apply safe fixes.
format: $(VENV)/.installed-test
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

## make check: Django's system checks and the missing-migrations check.
check: $(VENV)/.installed-test
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run

## make check-deploy: Django's deployment checks with the production settings (throwaway values).
check-deploy: $(VENV)/.installed
	SECRET_KEY="check-$$(head -c 48 /dev/urandom | base64)" ALLOWED_HOSTS=academy.example.com \
	  DATABASE_URL=postgres://postgres@127.0.0.1:5432/academy \
	  DJANGO_SETTINGS_MODULE=lms.settings.production \
	  $(PY) manage.py check --deploy --fail-level WARNING

## make loadtest: 2 web nodes + 2 workers behind nginx under locust, nodes killed midway, DB checked (USERS, RUN_TIME, SINGLE_NODE=1).
loadtest: $(VENV)/.installed-test
	./scripts/ensure-loadtest-tools.sh
	$(PY) -m scripts.loadtest

## make fuzz: Schemathesis against a running server, per demo role (docs/security.md).
fuzz: $(VENV)/.installed-test
	$(PY) scripts/schemathesis.py

## make bench: the benchmark table (figures and ratios in the same run).
bench: $(VENV)/.installed-test
	$(PY) -m bench

## make clean: remove the virtualenv, the SQLite database and built files.
clean:
	rm -rf $(VENV) db.sqlite3 db.sqlite3-* var staticfiles
