# The two commands of the README: `make run` and `make test`. Everything else is a helper.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000
# The site's own address in e-mails and QR codes when SITE_URL is not set and no request tells it
# (core.site): where `make run` serves (a server on every interface is reached at 127.0.0.1).
SITE_URL_DEFAULT ?= http://$(if $(filter 0.0.0.0 ::,$(HOST)),127.0.0.1,$(HOST)):$(PORT)

.PHONY: run test lint typecheck check contract messages system-deps axe-core clean cluster cluster-stop

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

# axe-core, pinned, from the npm registry (.ci/axe-core): the browser tests' accessibility checks.
# Without npm a local run skips those checks visibly; in CI (REQUIRE_SERVICES=1) it is a failure.
axe-core: system-deps
	@.ci/axe-core || [ "$${REQUIRE_SERVICES:-0}" != 1 ]

run: $(VENV)/.installed system-deps
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(PY) manage.py load_demo
	@echo "Serving on http://$(HOST):$(PORT)  (demo accounts: README.md)"
	@set -e; export SITE_URL_DEFAULT="$(SITE_URL_DEFAULT)"; \
	if [ -n "$$REDIS_URL" ]; then \
	  $(VENV)/bin/celery -A config worker --loglevel=INFO --concurrency=2 & worker=$$!; \
	  $(VENV)/bin/celery -A config beat --loglevel=INFO & beat=$$!; \
	else \
	  $(VENV)/bin/celery -A config worker -B --pool=solo --loglevel=INFO & worker=$$!; beat=; \
	fi; \
	trap 'kill $$worker $$beat 2>/dev/null; wait' EXIT INT TERM; \
	$(VENV)/bin/uvicorn config.asgi:application --host $(HOST) --port $(PORT) --proxy-headers

# The production topology on this machine (deploy/cluster.py, README "make cluster"): its own PostgreSQL
# primary (5440) and streaming replica (5441), Redis (6390), NODES= app nodes (uvicorn, from 8001), a
# Celery worker and beat, HAProxy on PORT= (8000, stats on 8404), with the demo data. It returns when
# every node is healthy and leaves them running; `make cluster-stop` stops exactly what it started.
cluster: $(VENV)/.installed system-deps
	$(PY) -m deploy.cluster up --nodes $(or $(NODES),2) --port $(PORT) $(CLUSTER_ARGS)

cluster-stop:
	$(PY) -m deploy.cluster down $(CLUSTER_ARGS)

# The tests run in one process per core (pytest-xdist; TEST_PROCESSES=1 for one): each has its own
# test database and its own keys in Redis (config/settings.py, tests/conftest.py).
test: $(VENV)/.installed-dev system-deps axe-core
	$(PY) -m pytest -n $(or $(TEST_PROCESSES),auto) $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

typecheck: $(VENV)/.installed-dev
	$(PY) -m config.workdir  # the settings django-stubs loads read var/secret_key
	$(VENV)/bin/mypy

check: lint typecheck test

# The API contract (tests/contract/run.py): schemathesis against the schema of a server started on a
# free port over a throw-away PostgreSQL database (sout_contract, on the server of DATABASE_URL) and
# Redis db 14, as an anonymous client, a candidate, a member of staff and the exam room (~3 minutes).
contract: $(VENV)/.installed-dev
	$(PY) -m tests.contract.run $(CONTRACT_ARGS)

# The catalogs: en (the English translation) and ru (only the plural entries, with the three Russian
# forms: the msgids are Russian, and an empty msgstr shows the msgid). Both .mo files are committed.
messages: $(VENV)/.installed-dev
	$(PY) manage.py makemessages -l en -l ru --no-obsolete --ignore=.venv --ignore=var --ignore=tests --ignore=bench
	$(PY) manage.py compilemessages -l en -l ru --ignore=.venv

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache

# Benchmarks and the fault drill of the attestation test (bench/README.md). They start their own
# uvicorn, Celery worker and beat against PostgreSQL (database sout_bench, dropped and recreated)
# and Redis (db 3) of this machine; the drill restarts the machine's Redis. N= candidates.
.PHONY: bench-exam drill-exam drill-cluster
bench-exam: $(VENV)/.installed-dev
	$(PY) -m bench.exam_bench --candidates $(or $(N),500) $(BENCH_ARGS)

drill-exam: $(VENV)/.installed-dev
	$(PY) -m bench.drill --candidates $(or $(N),100) $(DRILL_ARGS)

# What one entry and one answer save cost in CPU (bench/entry_cost.py), for the capacity model of
# bench/README.md: one uvicorn process, requests one after another (database sout_bench_cost).
.PHONY: bench-cost
bench-cost: $(VENV)/.installed-dev
	$(PY) -m bench.entry_cost $(COST_ARGS)

# The fault drill in the production topology (bench/drill_cluster.py): a cluster of its own
# (var/bench/cluster, HAProxy on 8790, nodes 8791-, PostgreSQL 5450-5451, Redis 6395), N= candidates
# (default 500) through HAProxy while a node, the replica and the Celery worker fail.
drill-cluster: $(VENV)/.installed-dev system-deps
	$(PY) -m bench.drill_cluster --candidates $(or $(N),500) $(DRILL_ARGS)

# The registry at scale (bench/registry_bench.py): N= entries (default 1,000,000) generated in the
# database sout_bench_registry (kept between runs with REUSE=1), searched and exported through the API.
.PHONY: bench-registry
bench-registry: $(VENV)/.installed-dev
	$(PY) -m bench.registry_bench --entries $(or $(N),1000000) $(if $(REUSE),--reuse,) $(REGISTRY_ARGS)
