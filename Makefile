# reengage — every target does its own set-up: a fresh clone needs only `make run` or `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
KAFKA_PORT ?= 9092
PYTEST_ARGS ?=

.PHONY: setup test lint format run demo kafka-up kafka-down kafka-jars bench clean help

help:
	@echo "make run        the whole loop on the embedded defaults: local broker, SQLite, worker,"
	@echo "                relay, mailer and an SMTP catcher (emails land in .run/mail)"
	@echo "make demo       (with make run going) publish a synthetic ATS data set, print the outcome"
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

# worker/devrun: starts the local broker unless REENGAGE_KAFKA_BOOTSTRAP_SERVERS points
# elsewhere (or one answers on $(KAFKA_PORT)), migrates, runs worker + relay + mailer + an SMTP
# catcher; Ctrl-C stops it all, the broker too when it started it.
run: setup
	@if [ -z "$$REENGAGE_KAFKA_BOOTSTRAP_SERVERS" ] && ! grep -qs '^REENGAGE_KAFKA_BOOTSTRAP_SERVERS=.' .env; then \
	  $(MAKE) --no-print-directory kafka-jars >/dev/null; fi
	$(BIN)/python -m worker.devrun --kafka-port $(KAFKA_PORT)

# Needs `make run` going (in another terminal). DEMO_ARGS="--seed 3 --candidates 10000" etc.
DEMO_ARGS ?=
# A KAFKA_PORT given to `make run` must be given here too; it stands in for an unset
# REENGAGE_KAFKA_BOOTSTRAP_SERVERS.
demo: setup
	$(if $(filter command line environment,$(origin KAFKA_PORT)),REENGAGE_KAFKA_BOOTSTRAP_SERVERS=$${REENGAGE_KAFKA_BOOTSTRAP_SERVERS:-127.0.0.1:$(KAFKA_PORT)} )$(BIN)/reengage demo $(DEMO_ARGS)

bench: setup kafka-jars
	@for b in bench/*_bench.py; do \
	  echo "== $$b"; $(BIN)/python -m bench.$$(basename $$b .py) || exit $$?; \
	done

clean:
	-@test -x $(BIN)/python && $(BIN)/python -m dev.local_kafka down 2>/dev/null || true
	rm -rf $(VENV) .run .pytest_cache .mypy_cache .ruff_cache .hypothesis *.egg-info reengage.db*
