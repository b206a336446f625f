# The two commands of the README: `make run` and `make test`. Everything else is a helper.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint typecheck check messages system-deps clean

$(VENV)/bin/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(VENV)/bin/python
	$(PIP) install --quiet -r requirements.txt
	@touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(VENV)/.installed
	$(PIP) install --quiet -r requirements-dev.txt
	@touch $@

# System libraries WeasyPrint needs (and Chromium for the browser tests), installed when missing and
# when we can (root with apt-get); otherwise the script says what to install.
system-deps:
	@.ci/system-deps

run: $(VENV)/.installed system-deps
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(PY) manage.py load_demo
	@echo "Serving on http://$(HOST):$(PORT)  (demo accounts: README.md)"
	@set -e; \
	if [ -n "$$REDIS_URL" ]; then \
	  $(VENV)/bin/celery -A config worker --loglevel=INFO --concurrency=2 & worker=$$!; \
	  $(VENV)/bin/celery -A config beat --loglevel=INFO & beat=$$!; \
	else \
	  $(VENV)/bin/celery -A config worker -B --pool=solo --loglevel=INFO & worker=$$!; beat=; \
	fi; \
	trap 'kill $$worker $$beat 2>/dev/null; wait' EXIT INT TERM; \
	$(VENV)/bin/uvicorn config.asgi:application --host $(HOST) --port $(PORT) --proxy-headers

test: $(VENV)/.installed-dev system-deps
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(VENV)/.installed-dev
	$(VENV)/bin/mypy

check: lint typecheck test

messages: $(VENV)/.installed-dev
	$(PY) manage.py makemessages -l en --no-obsolete --ignore=.venv --ignore=var --ignore=tests --ignore=bench
	$(PY) manage.py compilemessages -l en --ignore=.venv

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
