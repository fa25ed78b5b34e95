# Lambda packaging for `sam build` (template.yaml: `Metadata: BuildMethod:
# makefile`), included by the Makefile.  SAM runs `make build-<LogicalId>` with
# ARTIFACTS_DIR set.  Run `sam build --build-in-source`: without it SAM first
# copies the whole repository, virtualenvs included, to a scratch directory.
#
# Every function ships only our code: api/, workflows/ and tasks/ (byte code
# included).  The dependencies of requirements.txt, as CPython 3.11 arm64
# wheels, ship once in the layer DependenciesLayer (under python/, which the
# runtime puts on sys.path as /opt/python).  They are installed once per
# content of requirements.txt into build/lambda-deps/<hash> (atomically, so
# parallel builds are safe).

LAMBDA_PACKAGES := api workflows tasks
LAMBDA_PYTHON_VERSION := 3.11
LAMBDA_PLATFORM := manylinux2014_aarch64
LAMBDA_PYTHON ?= $(firstword $(wildcard .venv/bin/python) python3)
LAMBDA_PIP ?= $(LAMBDA_PYTHON) -m pip
# Provided by the Lambda Python runtime: not shipped (the functions then run the
# runtime's SDK version, not requirements.txt's pin). docs/benchmarks.md.
LAMBDA_RUNTIME_PROVIDED := boto3 botocore s3transfer
LAMBDA_DEPS_ROOT := build/lambda-deps
LAMBDA_FUNCTION_TARGETS := build-ApiFunction build-RefreshTokenFunction build-PlaceBidFunction \
	build-CheckResultFunction build-NotifyFunction build-EbayTokenExpiryFunction \
	build-EbayRateLimitsFunction

define lambda_check_artifacts_dir
@test -n "$(ARTIFACTS_DIR)" || { echo "$@: ARTIFACTS_DIR is not set (run sam build)" >&2; exit 1; }
@$(LAMBDA_PYTHON) -c 'import sys; sys.exit("%d.%d" % sys.version_info[:2] != "$(LAMBDA_PYTHON_VERSION)")' \
  || { echo "$@: byte code must be compiled by CPython $(LAMBDA_PYTHON_VERSION)" >&2; exit 1; }
endef

.PHONY: build-DependenciesLayer $(LAMBDA_FUNCTION_TARGETS)

build-DependenciesLayer:
	$(lambda_check_artifacts_dir)
	@set -eu; \
	deps="$(LAMBDA_DEPS_ROOT)/$$( { cat requirements.txt; echo "$(LAMBDA_RUNTIME_PROVIDED)"; } | sha256sum | cut -c1-16)"; \
	if [ ! -f "$$deps/.complete" ]; then \
	  mkdir -p "$(LAMBDA_DEPS_ROOT)"; \
	  tmp="$$(mktemp -d "$(LAMBDA_DEPS_ROOT)/.tmp.XXXXXX")"; \
	  $(LAMBDA_PIP) install --quiet --disable-pip-version-check --no-compile \
	    --target "$$tmp" --platform $(LAMBDA_PLATFORM) --implementation cp \
	    --python-version $(LAMBDA_PYTHON_VERSION) --only-binary=:all: \
	    -r requirements.txt; \
	  rm -rf "$$tmp/bin"; \
	  for pkg in $(LAMBDA_RUNTIME_PROVIDED); do \
	    rm -rf "$$tmp/$$pkg" "$$tmp/$$pkg"-*.dist-info; \
	  done; \
	  touch "$$tmp/.complete"; \
	  mv -T "$$tmp" "$$deps" 2>/dev/null || rm -rf "$$tmp"; \
	fi; \
	mkdir -p "$(ARTIFACTS_DIR)/python"; \
	cp -R "$$deps/." "$(ARTIFACTS_DIR)/python/"; \
	rm -f "$(ARTIFACTS_DIR)/python/.complete"; \
	find "$(ARTIFACTS_DIR)" -name __pycache__ -type d -prune -exec rm -rf {} +; \
	$(LAMBDA_PYTHON) -m compileall -q -j 0 --invalidation-mode unchecked-hash "$(ARTIFACTS_DIR)" >/dev/null

$(LAMBDA_FUNCTION_TARGETS):
	$(lambda_check_artifacts_dir)
	@set -eu; \
	cp -R $(LAMBDA_PACKAGES) "$(ARTIFACTS_DIR)/"; \
	find "$(ARTIFACTS_DIR)" -name __pycache__ -type d -prune -exec rm -rf {} +; \
	$(LAMBDA_PYTHON) -m compileall -q -j 0 --invalidation-mode unchecked-hash "$(ARTIFACTS_DIR)" >/dev/null
