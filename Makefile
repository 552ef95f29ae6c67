# clipcart — the front door. `make help` lists what you can do.
# Needs only Python 3.11, make and a C compiler: everything else installs into .venv.

SHELL := /bin/bash
PYTHON ?= python3.11
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
CLIPCART := $(BIN)/clipcart
SERVICES := $(patsubst services/%/manage.py,%,$(wildcard services/*/manage.py))
PYTEST_ARGS ?=
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.DEFAULT_GOAL := help
.PHONY: help install browser run demo test lint format typecheck imports-check migrations-check bench token clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.installed: $(UV) pyproject.toml uv.lock shared/pyproject.toml tools/pyproject.toml
	$(UV) sync --frozen --python $(PYTHON)
	@touch $@

install: $(VENV)/.installed ## Install the locked dependencies into .venv

# The browser tests (tests/e2e/test_console_browser.py) drive Debian's Chromium:
# Playwright's own browser download needs a host that this project's machines cannot reach.
CHROMIUM := /usr/bin/chromium
browser: ## Install Debian's chromium for the browser tests when it is missing (apt-get, as root or with sudo)
	@if [ -x $(CHROMIUM) ]; then echo "chromium: $(CHROMIUM)"; else \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-liberation && \
		[ -x $(CHROMIUM) ] || { echo "chromium could not be installed at $(CHROMIUM)"; exit 1; }; \
	fi

run: install ## Run every service, worker and scheduler on the embedded default (Ctrl-C stops all)
	$(CLIPCART) run

demo: install ## Start the stack and watch a sale go from a video to a creator (ARGS=--once: then stop)
	$(CLIPCART) demo $(ARGS)

test: install browser ## Run every test suite against a real PostgreSQL (embedded unless DATABASE_URL is set)
	$(CLIPCART) exec -- $(MAKE) --no-print-directory _test-suites

_test-suites:
	@set -e; for service in $(SERVICES); do \
		echo "== $$service"; \
		(cd services/$$service && ../../$(BIN)/pytest -q $(PYTEST_ARGS)); \
	done; \
	echo "== shared"; (cd shared && ../$(BIN)/pytest -q $(PYTEST_ARGS)); \
	echo "== tests (cross-service)"; (cd tests && ../$(BIN)/pytest -q $(PYTEST_ARGS))

lint: install ## ruff (lint + format check), mypy, import contracts, and a check that no migration is missing
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(MAKE) --no-print-directory typecheck
	$(MAKE) --no-print-directory imports-check
	$(MAKE) --no-print-directory migrations-check

format: install ## Let ruff fix what it can and format the code
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: install ## mypy with django-stubs, one service at a time (each has its own settings)
	@set -e; for service in $(SERVICES); do \
		echo "== mypy $$service"; \
		(cd services/$$service && DATABASE_URL=postgresql://localhost/typecheck \
			../../$(BIN)/mypy --config-file ../../pyproject.toml .); \
	done

imports-check: install ## Fail on an import cycle between a service's apps or an import of another service (import-linter)
	@set -e; for service in $(SERVICES); do \
		echo "== imports $$service"; \
		(cd services/$$service && ../../$(BIN)/lint-imports --no-cache --config .importlinter); \
	done

migrations-check: install ## Fail when a model change has no migration
	@set -e; for service in $(SERVICES); do \
		(cd services/$$service && DATABASE_URL=postgresql://localhost/migrations \
			../../$(BIN)/python manage.py makemigrations --check --dry-run --settings=config.settings.test >/dev/null) \
		|| { echo "$$service: a model change has no migration (run makemigrations)"; exit 1; }; \
	done; echo "migrations: none missing"

bench: install ## Measure throughput against a bare endpoint in the same run (see README)
	$(CLIPCART) exec -- $(BIN)/python infra/bench/run.py $(ARGS)

token: install ## Mint a local mobile-user token: make token USER=<id>
	@$(CLIPCART) token "$(USER)"

clean: ## Remove the virtualenvs and the embedded database
	rm -rf $(VENV) $(TOOLS) .data
