# The README's two commands: `make up` (the whole pipeline on this machine) and `make test`.
# Each installs what it needs (apt, pip, Maven Central, Go module proxy, crates.io) and
# reuses what an earlier run built (.venv, ~/.cache/ioc).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
IOC := $(VENV)/bin/ioc
STAMP := $(VENV)/.installed

.PHONY: up down test unit integration services status deps venv assets lint bench telegraf compose compose-check clean

up: deps venv assets  ## everything: services, bridge, worker, simulation; prints the URLs
	$(IOC) up

down: venv  ## stop what `make up` / `ioc services up` started
	$(IOC) services down

test: deps venv assets compose services  ## layer contracts, unit tests, then integration tests against the real services
	$(VENV)/bin/lint-imports
	$(VENV)/bin/pytest tests/unit -q
	$(VENV)/bin/pytest tests/integration -v --durations=15

unit: venv
	$(VENV)/bin/pytest tests/unit -q

integration: deps venv assets compose services
	$(VENV)/bin/pytest tests/integration -v

services: deps venv
	$(IOC) services up

status: venv
	$(IOC) services status

deps:  ## system packages (Mosquitto, Java, Maven, Go, cargo) — installed only when missing
	bash deploy/local/install_deps.sh

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[dev]'
	touch $(STAMP)

assets: venv  ## the console's map library from the npm registry (pinned version, sha512-checked)
	$(IOC) assets

lint: venv  ## ruff, mypy (library and tests) and the import-linter layer contracts (docs/architecture.md)
	$(VENV)/bin/ruff check ioc tests
	$(VENV)/bin/mypy ioc tests
	$(VENV)/bin/lint-imports

bench: deps venv services
	$(IOC) bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

telegraf:  ## the Telegraf peer for `ioc bench --only peer` (Go module proxy, ~/.cache/ioc)
	bash deploy/local/build_telegraf.sh

compose:  ## Docker Compose v2 (`docker compose`) from its Go module, cached in ~/.cache/ioc
	bash deploy/local/build_compose.sh

compose-check: venv compose  ## docker-compose.yml through `docker compose config` (no engine needed)
	$(VENV)/bin/pytest tests/integration/deploy/test_compose_config.py \
		tests/integration/deploy/test_compose_grafana.py -q
