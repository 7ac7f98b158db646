# gridhouse: `make demo` serves the demo district, `make test` runs every check. Both set up
# everything they need first (system packages as root, .venv, PostGIS) and are idempotent.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test setup lint pytest bench clean-cluster

demo: setup
	$(BIN)/gridhouse demo

test: setup lint pytest

setup: $(VENV)/.installed
	$(BIN)/gridhouse db install

# Debian's python3 may lack venv/ensurepip: install python3-venv when it is missing (as root).
$(BIN)/python:
	@$(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || { \
	  [ "$$(id -u)" = 0 ] || { echo "python3-venv is missing: as root run apt-get install -y python3-venv" >&2; exit 1; }; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null; }
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q --upgrade pip==26.3
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@

lint:
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

pytest:
	$(BIN)/pytest

clean-cluster:
	-$(BIN)/gridhouse db stop
	rm -rf .gridhouse
