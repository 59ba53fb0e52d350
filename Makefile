# Rocket: every target installs what it needs first (only Python 3.11+ is assumed).
SHELL := /bin/bash
PYTHON ?= python3
UV := $(PYTHON) -m uv
RUN := $(UV) run --no-sync
PKGS := contracts/src infra/src services/*/src
PYTEST_WORKERS ?= 2

.PHONY: setup test lint fmt typecheck unit e2e models bench faults demo up clean

setup: .venv/.synced

# uv is installed through pip when missing; the workspace goes into .venv.
.venv/.synced: pyproject.toml contracts/pyproject.toml infra/pyproject.toml services/*/pyproject.toml
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv || $(PYTHON) -m pip install --quiet --user uv
	$(UV) sync --all-packages
	@touch $@

test: setup lint typecheck unit e2e

lint: setup
	$(RUN) ruff check .
	$(RUN) ruff format --check .

fmt: setup
	$(RUN) ruff check --fix .
	$(RUN) ruff format .

typecheck: setup
	$(RUN) mypy $(PKGS) tests

unit: setup
	$(RUN) pytest -n $(PYTEST_WORKERS) -m "not e2e and not bench and not faults"

e2e: setup
	$(RUN) pytest -p no:xdist -m e2e

models: setup
	$(RUN) python -m rocket_contracts.codegen

bench: setup
	$(RUN) pytest -m bench tests/benchmarks -s -p no:xdist

faults: setup
	$(RUN) pytest -m faults -s -p no:xdist tests/faults

demo: setup
	$(RUN) rocket demo

up: setup
	$(RUN) rocket up

clean:
	rm -rf .venv dist .pytest_cache .mypy_cache .ruff_cache
