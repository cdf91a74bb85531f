# Two commands on a fresh machine with Python 3.11+:
#   make run    creates .venv, installs, migrates and starts the bot
#               (Telegram when configured in .env, otherwise a terminal chat on SQLite)
#   make test   installs the test tools and runs the whole test suite
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin

.PHONY: run test lint chat staff triage-eval bench replicas clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev,rasa]"
	touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/python -m bot run

test: $(VENV)/.installed-dev
	deploy/system-packages.sh
	$(BIN)/python -m pytest

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .

chat: $(VENV)/.installed
	$(BIN)/python -m bot chat

staff: $(VENV)/.installed
	$(BIN)/python -m bot staff

triage-eval: $(VENV)/.installed
	$(BIN)/python -m bot triage-eval

# Two replicas on PostgreSQL (DATABASE_URL) behind a local proxy: docker-compose's twin, as processes.
replicas: $(VENV)/.installed
	$(BIN)/python deploy/replicas.py --replicas 2

bench: $(VENV)/.installed-dev
	$(BIN)/python benchmarks/triage_bench.py
	$(BIN)/python benchmarks/telegram_bench.py

clean:
	rm -rf $(VENV) data/cache
