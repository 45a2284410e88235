# The two commands of the README, each setting up .venv with the pinned dependencies on first use.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STACK ?=
PROJECT ?= website
# Bytecode caches on: this machine sets PYTHONDONTWRITEBYTECODE, which makes every run compile
# the project and re-rewrite the tests' asserts (about 2 s of the suite's collection).
unexport PYTHONDONTWRITEBYTECODE

.PHONY: preview test lint validate bench lock venv
preview: $(VENV)/.installed ## offline preview of a stack (STACK=prod by default; PROJECT=bootstrap)
	@$(BIN)/python scripts/preview --project $(PROJECT) $(STACK)

test: $(VENV)/.installed lint ## lint, type-check, then the test suite (both cores: pytest-xdist)
	$(BIN)/pytest -n 2

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

validate: $(VENV)/.installed ## config, synthesis and policies of every stack (bootstrap too)
	$(BIN)/python scripts/validate

bench: $(VENV)/.installed ## synthesis/diff/suite timings (benchmarks/README.md); not a test
	$(BIN)/python benchmarks/synthesis.py

venv: $(VENV)/.installed ## just the pinned environment (CI steps that run scripts/ directly)

$(VENV)/.installed: requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	@touch $@

lock: ## re-resolve requirements.txt into requirements.lock
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip freeze --exclude-editable > requirements.lock
