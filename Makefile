# reengage — every target does its own set-up: a fresh clone needs only `make run` or `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
KAFKA_PORT ?= 9092
PYTEST_ARGS ?=

.PHONY: setup test lint format run kafka-up kafka-down kafka-jars bench clean help

help:
	@echo "make run        run the worker on the embedded defaults (local broker + SQLite)"
	@echo "make test       run the whole test suite (starts its own broker and PostgreSQL)"
	@echo "make lint       ruff + mypy --strict"
	@echo "make kafka-up   start the local broker on 127.0.0.1:$(KAFKA_PORT); kafka-down stops it"
	@echo "make bench      run the benchmarks in bench/"
	@echo "make clean      remove the venv, caches and local state"

setup: $(INSTALLED)

$(INSTALLED): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

kafka-jars: setup
	$(BIN)/python -m dev.local_kafka fetch

test: setup kafka-jars
	$(BIN)/pytest $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check worker tests bench dev
	$(BIN)/ruff format --check worker tests bench dev
	$(BIN)/mypy worker

format: setup
	$(BIN)/ruff check --fix worker tests bench dev
	$(BIN)/ruff format worker tests bench dev

kafka-up: kafka-jars
	$(BIN)/python -m dev.local_kafka up --port $(KAFKA_PORT)

kafka-down: setup
	$(BIN)/python -m dev.local_kafka down

# Starts the local broker unless REENGAGE_KAFKA_BOOTSTRAP_SERVERS points elsewhere.
run: setup
	@if [ -z "$$REENGAGE_KAFKA_BOOTSTRAP_SERVERS" ]; then $(MAKE) --no-print-directory kafka-up; fi
	$(BIN)/reengage migrate
	$(BIN)/reengage worker

bench: setup kafka-jars
	@for b in bench/*_bench.py; do \
	  echo "== $$b"; $(BIN)/python -m bench.$$(basename $$b .py) || exit $$?; \
	done

clean:
	-@test -x $(BIN)/python && $(BIN)/python -m dev.local_kafka down 2>/dev/null || true
	rm -rf $(VENV) .run .pytest_cache .mypy_cache .ruff_cache .hypothesis *.egg-info reengage.db*
