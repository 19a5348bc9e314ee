# perfplat: `make run` to try it, `make test` to check it. See README.md.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
# Pinned front-end packages from npm; `make frontend` vendors exactly these versions.
GOVUK_FRONTEND_VERSION := 6.6.0
AXE_CORE_VERSION := 4.14.1

.PHONY: install run test test-sqlite test-postgres system-deps bench lint format frontend clean \
	cluster cluster-stop loadtest

# Reinstalls only when the project's dependencies change.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# The demo collector pulls from `perfplat demo-source` on this machine, an address collectors
# refuse unless told otherwise. DEBUG: local development, which lets `perfplat serve` start
# with the development SECRET_KEY and host names.
run: export PERFPLAT_COLLECTORS_ALLOW_PRIVATE := true
# The demo's emails (and password links) are printed in this terminal: local use only.
run: export EMAIL_BACKEND := django.core.mail.backends.console.EmailBackend
run: export DEBUG := true
run: install
	$(BIN)/perfplat migrate --verbosity 0
	$(BIN)/perfplat demo
	@# The demo collector's source and the background worker (uploads, collectors,
	@# notifications) run beside the server and stop with it.
	$(BIN)/perfplat demo-source --port 8001 & source=$$!; \
	$(BIN)/perfplat worker --quiet & worker=$$!; \
	trap "kill $$source $$worker 2>/dev/null" EXIT INT TERM; \
	$(BIN)/perfplat serve --host $(HOST) --port $(PORT)

# Debian packages the tests need: PostgreSQL for the second database run, chromium for the
# browser tests, nginx and Redis for the production topology (make cluster, tests/cluster).
# Installed when missing and we are root; otherwise scripts/test says what is missing.
system-deps:
	@missing=""; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null 2>&1 || missing="$$missing nginx"; \
	command -v redis-server >/dev/null 2>&1 || missing="$$missing redis-server"; \
	if [ -n "$$missing" ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "Installing$$missing with apt-get"; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get install -y -qq $$missing >/dev/null 2>&1 || \
		{ apt-get update -qq >/dev/null && apt-get install -y -qq $$missing >/dev/null; }; \
	fi

test: install system-deps
	scripts/test

test-sqlite: install
	$(BIN)/pytest -q

test-postgres: install system-deps
	scripts/with-postgres $(BIN)/pytest -q

bench: install system-deps
	$(BIN)/python bench/run.py

# The production topology on this machine (docs/deploying.md): PostgreSQL primary and replica,
# Redis, two app servers, two workers, nginx with TLS. Runs until `make cluster-stop`.
cluster: install system-deps
	scripts/cluster start

cluster-stop:
	scripts/cluster stop

# Readers and writers against the cluster for 60 s (started for the run when none is running).
loadtest: install system-deps
	$(BIN)/python loadtest/run.py

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Refreshes the vendored GOV.UK Frontend (shipped) and axe-core (browser tests only) from npm.
frontend:
	scripts/vendor-frontend $(GOVUK_FRONTEND_VERSION) $(AXE_CORE_VERSION)

clean:
	-test -f .cluster && scripts/cluster stop
	rm -rf $(VENV) staticfiles test-output .pytest_cache .ruff_cache .hypothesis perfplat.sqlite3*
