# The two commands of the README: `make demo` and `make test`.
# Only Python 3.11 is needed; everything else goes into .venv.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test install lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

## Start web + Celery worker + Celery beat with demo data (SQLite + filesystem broker
## unless DATABASE_URL / REDIS_URL are set). Ctrl-C stops all of it.
demo: install
	$(BIN)/python manage.py demo

## Install the test dependencies and run the whole suite.
test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## ruff, and the layers of docs/architecture.md (import-linter's contracts in pyproject.toml).
lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports

bench: install
	$(BIN)/python bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var
