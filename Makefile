# The commands people type. Everything installs into .venv on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
PORT ?= 8000
export PORT

.PHONY: run test e2e lint bench fuzz install install-test migrate seed clean check

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

install: $(VENV)/.installed

## make run: install, migrate SQLite, load demo data, start web server + worker.
run: $(VENV)/.installed
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	./scripts/run.sh

## make test: the whole suite (SQLite; PostgreSQL when DATABASE_URL is set).
test: $(VENV)/.installed-test
	$(VENV)/bin/pytest $(PYTEST_ARGS)

## make e2e: browser tests in Debian's Chromium (installed when missing and root).
e2e: $(VENV)/.installed-e2e
	./scripts/ensure-chromium.sh
	$(VENV)/bin/pytest tests/e2e -p no:cacheprovider $(PYTEST_ARGS)

lint: $(VENV)/.installed-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

check: $(VENV)/.installed-test
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run

## make fuzz: Schemathesis against a running server, per demo role (docs/security.md).
fuzz: $(VENV)/.installed-test
	$(PY) scripts/schemathesis.py

## make bench: the benchmark table (figures and ratios in the same run).
bench: $(VENV)/.installed-test
	$(PY) -m bench

clean:
	rm -rf $(VENV) db.sqlite3 db.sqlite3-* var staticfiles
