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
# Lint checks of the services run side by side (each service is its own mypy/Django run).
LINT_JOBS ?= 3
# Test suites run side by side (see _test-suites); TEST_JOBS=1 runs one at a time.
TEST_JOBS ?= 2
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.DEFAULT_GOAL := help
.PHONY: help install browser nginx run demo test lint format typecheck imports-check migrations-check bench token openapi clean

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

# The gateway's live tests (tests/infra/test_gateway_live.py) serve its template with a
# real nginx: Debian's nginx-light, installed without starting its own server.
NGINX_BIN := /usr/sbin/nginx
nginx: ## Install Debian's nginx-light for the gateway's live tests when it is missing (apt-get, as root or with sudo)
	@if [ -x $(NGINX_BIN) ]; then echo "nginx: $(NGINX_BIN)"; else \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && \
		RUNLEVEL=1 DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends nginx-light && \
		{ $$SUDO $(NGINX_BIN) -s stop 2>/dev/null || true; } && \
		[ -x $(NGINX_BIN) ] || { echo "nginx could not be installed at $(NGINX_BIN)"; exit 1; }; \
	fi

run: install ## Run every service, worker and scheduler on the embedded default (Ctrl-C stops all)
	$(CLIPCART) run

demo: install ## Start the stack and watch a sale go from a video to a creator (ARGS=--once: then stop)
	$(CLIPCART) demo $(ARGS)

test: install browser nginx ## Run every test suite against a real PostgreSQL (embedded unless DATABASE_URL is set)
	$(CLIPCART) exec -- $(MAKE) --no-print-directory _test-suites

# The suites that need only the database and the processes they start themselves (each
# service's, the shared package's, and the cross-service tests but tests/e2e and tests/run)
# run TEST_JOBS at a time, the longest first, each one's output shown whole when it ends;
# then the suites that start the whole stack (tests/e2e, tests/run), whose waits have time
# bounds, run alone.
SIDE_BY_SIDE_SUITES := cross-service $(filter checkout video,$(SERVICES)) \
	$(filter-out checkout video,$(SERVICES)) shared

_test-suites:
	@$(MAKE) --no-print-directory -j$(TEST_JOBS) --output-sync=target \
		$(addprefix _suite-,$(SIDE_BY_SIDE_SUITES))
	@$(MAKE) --no-print-directory _suite-whole-stack

_suite-%:
	@echo "== $*"
	@cd services/$* && ../../$(BIN)/pytest -q $(PYTEST_ARGS)

_suite-shared:
	@echo "== shared"
	@cd shared && ../$(BIN)/pytest -q $(PYTEST_ARGS)

_suite-cross-service:
	@echo "== tests (cross-service: all but e2e and run)"
	@cd tests && ../$(BIN)/pytest -q --ignore=e2e --ignore=run $(PYTEST_ARGS)

_suite-whole-stack:
	@echo "== tests (cross-service: e2e and run, the whole stack)"
	@cd tests && ../$(BIN)/pytest -q e2e run $(PYTEST_ARGS)

openapi: install ## Rebuild infra/gateway/openapi.json, the one API document the gateway serves (ADR 29)
	$(CLIPCART) openapi

lint: install ## ruff (lint + format check), mypy, import contracts, and a check that no migration is missing
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(MAKE) --no-print-directory typecheck
	$(MAKE) --no-print-directory imports-check
	$(MAKE) --no-print-directory migrations-check

format: install ## Let ruff fix what it can and format the code
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: install ## mypy with django-stubs, each service on its own (each has its own settings), side by side
	@$(MAKE) --no-print-directory -j$(LINT_JOBS) --output-sync=target $(addprefix _typecheck-,$(SERVICES))

_typecheck-%:
	@echo "== mypy $*"
	@cd services/$* && DATABASE_URL=postgresql://localhost/typecheck \
		../../$(BIN)/mypy --config-file ../../pyproject.toml .

imports-check: install ## Fail on an import cycle between a service's apps or an import of another service (import-linter)
	@$(MAKE) --no-print-directory -j$(LINT_JOBS) --output-sync=target $(addprefix _imports-check-,$(SERVICES))

_imports-check-%:
	@echo "== imports $*"
	@cd services/$* && ../../$(BIN)/lint-imports --no-cache --config .importlinter

migrations-check: install ## Fail when a model change has no migration
	@$(MAKE) --no-print-directory -j$(LINT_JOBS) --output-sync=target $(addprefix _migrations-check-,$(SERVICES))
	@echo "migrations: none missing"

_migrations-check-%:
	@cd services/$* && DATABASE_URL=postgresql://localhost/migrations \
		../../$(BIN)/python manage.py makemigrations --check --dry-run --settings=config.settings.test >/dev/null \
		|| { echo "$*: a model change has no migration (run makemigrations)"; exit 1; }

bench: install ## Measure throughput against a bare endpoint in the same run (see README)
	$(CLIPCART) exec -- $(BIN)/python infra/bench/run.py $(ARGS)

token: install ## Mint a local mobile-user token: make token USER=<id>
	@$(CLIPCART) token "$(USER)"

clean: ## Remove the virtualenvs and the embedded database
	rm -rf $(VENV) $(TOOLS) .data
