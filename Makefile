# One entry point for newcomers and CI. Every target sets up what it needs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml setup.py constraints.txt | sha256sum | cut -c1-12)
STACK  ?= dev
# The lowest versions pyproject.toml's ranges allow, in a venv of their own.
LOWEST       := .venv-lowest
LOWEST_STAMP := $(LOWEST)/.installed-$(shell cat pyproject.toml setup.py constraints-lowest.txt | sha256sum | cut -c1-12)

.PHONY: setup plan test test-bench test-install test-lowest lint bench mutate browser wheel clean

# Create the virtual environment and install the library with its dev extras, pinned by constraints.txt.
$(STAMP): pyproject.toml setup.py constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $(STAMP)

setup: $(STAMP)

$(LOWEST_STAMP): pyproject.toml setup.py constraints-lowest.txt
	test -x $(LOWEST)/bin/python || $(PYTHON) -m venv $(LOWEST)
	$(LOWEST)/bin/pip install --quiet --disable-pip-version-check -c constraints-lowest.txt -e '.[dev]'
	rm -f $(LOWEST)/.installed-* && touch $(LOWEST_STAMP)

## The main job: the offline plan of a stack (default dev), with the policy pack.
plan: $(STAMP)
	$(BIN)/python -m serverless_patterns.offline.plan --stack $(STACK)

## Headless Chromium for the browser-client tests (Debian package).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	  else sudo apt-get update -qq && sudo apt-get install -y -qq chromium >/dev/null; fi; }

## ruff, then mypy --strict over the package as users import it ([tool.mypy] in pyproject.toml). mypy cannot
## follow setuptools' editable import hook, so it reads the package through a link tree shaped like the wheel.
lint: $(STAMP)
	$(BIN)/ruff check .
	rm -rf .build/typecheck && mkdir -p .build/typecheck/serverless_patterns
	for path in components/* lambdas policies; do \
	  ln -s "$$PWD/$$path" .build/typecheck/serverless_patterns/$$(basename $$path); done
	$(BIN)/mypy

## Lint, then the whole test suite on every core (pytest-xdist; a file's tests stay on one worker, so module fixtures are built once).
test: $(STAMP) browser lint
	$(BIN)/pytest -n auto --dist loadfile --no-loadscope-reorder

## `make bench`'s pattern scenarios, run as tests (they fail when a scenario no longer ends as described).
test-bench: $(STAMP)
	$(BIN)/pytest -m bench -p no:cacheprovider

## `pulumi install` on a fresh clone, emulated: a new .venv, pip as the language host runs it, then the program.
test-install: $(STAMP)
	$(BIN)/pytest -m install -p no:cacheprovider

## The whole test suite against the lowest versions the ranges allow (constraints-lowest.txt).
test-lowest: $(LOWEST_STAMP) browser
	$(LOWEST)/bin/pytest -p no:cacheprovider -n auto --dist loadfile --no-loadscope-reorder

## The wheel a platform team installs: dist/pulumi_serverless_patterns-<version>-py3-none-any.whl.
wheel: $(STAMP)
	$(BIN)/uv build --quiet --wheel --out-dir dist .

bench: $(STAMP)
	$(BIN)/python -m benchmarks.bench

## Mutation testing of the security-critical modules, each against its own tests (minutes; not part of CI).
## MUTATE="core-iam core-args" runs some targets; the report is written to benchmarks/mutation-report.md.
mutate: $(STAMP)
	$(BIN)/python -m benchmarks.mutate $(MUTATE) --report benchmarks/mutation-report.md

clean:
	rm -rf $(VENV) $(LOWEST) .build build dist .pytest_cache .ruff_cache
