# Rocket: every target installs what it needs first (only Python 3.11+ is assumed).
SHELL := /bin/bash
PYTHON ?= python3
UV := $(PYTHON) -m uv
RUN := $(UV) run --no-sync
PKGS := contracts/src infra/src services/*/src
PYTEST_WORKERS ?= 2

.PHONY: setup test lint fmt typecheck unit e2e packages requirements requirements-upgrade \
	requirements-check models bench faults demo up clean \
	checkov checkov-requirements

setup: .venv/.synced

# uv is installed through pip when missing; the workspace goes into .venv.
.venv/.synced: pyproject.toml contracts/pyproject.toml infra/pyproject.toml services/*/pyproject.toml
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv || $(PYTHON) -m pip install --quiet --user uv
	$(UV) sync --all-packages
	@touch $@

test: setup lint typecheck requirements-check unit packages e2e

lint: setup
	$(RUN) ruff check .
	$(RUN) ruff format --check .

fmt: setup
	$(RUN) ruff check --fix .
	$(RUN) ruff format .

typecheck: setup
	$(RUN) mypy $(PKGS) tests

unit: setup
	$(RUN) pytest -n $(PYTEST_WORKERS) -m "not e2e and not bench and not faults and not package"

# Every service's Lambda package built from its hashed requirements (wheels from the package
# index, cached by uv), within budget, every module imported from the unzipped tree.
packages: setup
	$(RUN) pytest -n $(PYTEST_WORKERS) -m package infra/tests/test_build.py

# requirements/<deployable>.txt, pinned and hashed, from the local uv.lock (not committed: it
# names the index host). Run after changing any pyproject.toml's dependencies; commit the result.
requirements: setup
	$(UV) lock
	$(RUN) python -m rocket_infra.requirements export

# The same, letting every package move to its newest allowed version.
requirements-upgrade: setup
	$(UV) lock --upgrade
	$(RUN) python -m rocket_infra.requirements export

requirements-check: setup
	$(RUN) python -m rocket_infra.requirements check

# checkov over every CloudFormation template, from its own venv (.tools/checkov, installed on
# first use from requirements/tools/checkov.txt): its pins conflict with the workspace's.
# tests/infra/test_checkov.py runs the same on every `make test`.
checkov: setup
	$(RUN) python -m rocket_infra.policy.checkov

checkov-requirements:
	$(UV) pip compile --universal --python-version 3.11 --generate-hashes --no-header --quiet \
		requirements/tools/checkov.in -o requirements/tools/checkov.txt

# With the seeded slice of the fault suites (one seed, two kills, 20 s of load) on the same
# platform session; `make faults` runs them in full.
e2e: setup
	ROCKET_FAULTS_SLICE=1 $(RUN) pytest -p no:xdist -m "e2e or faults_slice"

models: setup
	$(RUN) python -m rocket_contracts.codegen

bench: setup
	$(RUN) pytest -m bench tests/benchmarks -s -p no:xdist

# Every fault and soak suite; tests/faults/test_platform.py writes BENCHMARKS.md § Reliability
# (ROCKET_RELIABILITY_SEEDS, ROCKET_RELIABILITY_KILLS, ROCKET_RELIABILITY_SOAK_SECONDS: 600).
faults: setup
	$(RUN) pytest -m faults -s -p no:xdist tests/faults

demo: setup
	$(RUN) rocket demo

up: setup
	$(RUN) rocket up

clean:
	rm -rf .venv dist .pytest_cache .mypy_cache .ruff_cache
