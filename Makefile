# Everything runs from a local virtualenv created on demand (Python 3.11).
PYTHON ?= python3.11
VENV := .venv
SAM_VENV := .venv-sam
BIN := $(VENV)/bin
export TZ := UTC
export PIP_DISABLE_PIP_VERSION_CHECK := 1
# pip-audit's vulnerability data (PyPI per-release JSON, OSV) is not reachable
# from our machines or CI: go on with a loud "DEPENDENCIES NOT AUDITED" banner.
# Set PIP_AUDIT_ALLOW_UNAUDITED=0 where the data is reachable to require the
# audit (docs/security.md, "Scanning").
export PIP_AUDIT_ALLOW_UNAUDITED ?= 1

include build.mk

.PHONY: help venv sam-venv dev demo token check test lint format typecheck infra-lint security unit scenarios build clean openapi fuzz

help:
	@echo "make dev        run the whole stack locally (web app on http://127.0.0.1:3000, API on :8000)"
	@echo "make dev-sfn-local  make dev with Step Functions Local (Docker) as engine"
	@echo "make demo       with make dev running: one winning and one losing snipe"
	@echo "make token USER_ID=alice   print a bearer token for a user"
	@echo "make check      lint, type-check, validate infrastructure, run every test (CI)"
	@echo "make web-test   the web app's browser tests (Playwright + Debian chromium)"
	@echo "make web-check  the web app: lint, type check, API client in sync, browser tests"
	@echo "make test       run the test suite only"
	@echo "make lint       ruff lint + format check"
	@echo "make typecheck  mypy --strict"
	@echo "make infra-lint sam validate (+ --lint), cfn-lint, statelint"
	@echo "make security   bandit + pip-audit (needs PyPI's vulnerability data)"
	@echo "make build      sam build (Lambda artifacts in .aws-sam/)"
	@echo "make openapi    write docs/openapi.json from the API (commit it)"
	@echo "make fuzz       schemathesis, every check + stateful, 2,000+ cases"
	@echo "make bench      benchmarks, full size (minutes; bench/results/, docs/benchmarks.md)"
	@echo "make bench-smoke  the benchmarks at smoke size (seconds)"

venv: $(VENV)/.installed
$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@

sam-venv: $(SAM_VENV)/.installed
$(SAM_VENV)/.installed: requirements-sam.txt
	test -x $(SAM_VENV)/bin/python || $(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install -q --upgrade pip
	$(SAM_VENV)/bin/pip install -q -r requirements-sam.txt
	touch $@

dev: venv
	$(BIN)/python -m sandbox dev

demo: venv
	$(BIN)/python -m sandbox demo

token: venv
	@$(BIN)/python -m sandbox token $(or $(USER_ID),$(USER))

check: lint typecheck infra-lint security test web-check

test: venv
	$(BIN)/pytest

unit: venv
	$(BIN)/pytest tests/unit

scenarios: venv
	$(BIN)/pytest tests/scenarios

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: venv
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: venv
	$(BIN)/mypy api workflows tasks sandbox tests bench ops

infra-lint: venv sam-venv
	bash scripts/lint-infra.sh

# bandit: static analysis of our code (configured in pyproject.toml).
# pip-audit: known vulnerabilities of every pinned dependency (runtime and dev);
# fails loudly, never silently, when it cannot get the data (docs/security.md).
security: venv
	$(BIN)/bandit -q -r api workflows tasks sandbox ops -c pyproject.toml
	$(BIN)/python scripts/audit_deps.py -r requirements-dev.txt

build: sam-venv
	SAM_CLI_TELEMETRY=0 $(SAM_VENV)/bin/sam build --build-in-source

# Step Functions Local (Docker) runs the state machine instead of moto; the
# rest of the stack is `make dev`'s. Needs a Docker daemon and Compose
# (docs/local-stack.md, "Step Functions Local").
.PHONY: dev-sfn-local
dev-sfn-local: venv
	$(BIN)/python -m sandbox dev-sfn-local

# Benchmarks (docs/benchmarks.md): not tests, nothing is asserted. `bench`
# runs every suite at full size (the artifact suite runs `make build`);
# `bench-smoke` is the CI-sized run of tests/integration/test_bench_smoke.py.
.PHONY: bench bench-smoke
bench: venv sam-venv
	$(BIN)/python -m bench --out bench/results

bench-smoke: venv
	$(BIN)/python -m bench --smoke --out bench/results/smoke

# The committed API contract (docs/openapi.json); a test fails when it drifts.
openapi: venv
	$(BIN)/python scripts/openapi.py

# schemathesis against a fresh in-process stack: every check, every phase
# (stateful included), fixed seed, 2,000+ test cases (docs/fuzzing.md).
fuzz: venv
	$(BIN)/python -m sandbox.fuzz --max-examples 100 --min-cases 2000

clean:
	rm -rf .aws-sam build .pytest_cache .mypy_cache .ruff_cache

# ---------------------------------------------------------------- operations
# (issue 14) Deploy with sam (samconfig.toml: ENV=dev or ENV=prod; the build
# always runs first, so the repository root is never uploaded), the operator
# CLI, and the sizes of what a deploy uploads. docs/deploy.md, docs/operations.md.
ENV ?= dev
.PHONY: deploy ops deploy-check
deploy: build deploy-check
	SAM_CLI_TELEMETRY=0 $(SAM_VENV)/bin/sam deploy --config-env $(ENV)

# Refuse to deploy the placeholders of samconfig.toml.
deploy-check:
	@! awk '/^\[/{on = ($$0 == "[$(ENV).deploy.parameters]")} on' samconfig.toml | grep CHANGE \
	  || { echo "deploy: replace the CHANGE values of [$(ENV).deploy.parameters] in samconfig.toml (docs/deploy.md)" >&2; exit 1; }

ops: venv
	@$(BIN)/python -m ops --help

# --- web app (web/, Next.js) ---------------------------------------------------
# Packages from web/package-lock.json (npm ci); the browser is Debian's chromium
# (CHROMIUM_PATH, default /usr/bin/chromium), never a downloaded one. The
# browser tests start their own fresh stack (python -m sandbox dev) on ports
# E2E_PORT_BASE..+3 (default 8100) and E2E_WEB_PORT (default 3100).
WEB := web
CHROMIUM_PATH ?= /usr/bin/chromium
export CHROMIUM_PATH
.PHONY: web-install web-lint web-typecheck web-test web-check web-api
web-install: $(WEB)/node_modules/.package-lock.json
$(WEB)/node_modules/.package-lock.json: $(WEB)/package-lock.json
	cd $(WEB) && npm ci --no-audit --no-fund

web-lint: web-install
	cd $(WEB) && npm run --silent lint

# tsc --strict, and the generated API client in sync with docs/openapi.json.
web-typecheck: web-install
	cd $(WEB) && npm run --silent typecheck && npm run --silent check:api

# Regenerate web/src/api/schema.d.ts from docs/openapi.json (commit it).
web-api: web-install
	cd $(WEB) && npm run --silent gen:api

web-test: venv web-install
	@test -x "$(CHROMIUM_PATH)" || { echo "no browser at $(CHROMIUM_PATH): apt-get install -y chromium (or set CHROMIUM_PATH)"; exit 1; }
	cd $(WEB) && npx playwright test

web-check: web-lint web-typecheck web-test
