# CJM Warehouse — `make demo` and `make test` work on a fresh Debian/Ubuntu machine
# with Python 3.11 and access to the package index. Nothing else is needed.

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: install demo test lint format bench clean chromium airflow

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "CJM Warehouse needs Python 3.11 (snscrape does not import on 3.12+): set PYTHON=/path/to/python3.11"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q uv==0.13.8
	# Bytecode compiled once here: uv does not by default, and where PYTHONDONTWRITEBYTECODE
	# is set (as on the build machines) every process would compile each module it imports
	# (pandas alone: 1.45 s → 0.41 s to import) — dbt, Airflow tasks and GX start often.
	$(BIN)/uv pip install --python $(BIN)/python -q --compile-bytecode -r requirements.lock
	$(BIN)/python -m compileall -q cjm extractors expectations dags > /dev/null
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP)

demo: install
	$(BIN)/cjm demo

# Headless Chromium for the report's browser tests (Debian's package, when missing and root).
chromium:
	scripts/install-chromium.sh

# The tests run their own PostgreSQL and Redis servers: their binaries are installed first
# if missing.
test: install chromium
	sh scripts/ensure_postgres.sh
	sh scripts/ensure_redis.sh
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/pytest -n auto --dist loadfile --durations=30

# ruff, and the layers' import contract (pyproject.toml [tool.importlinter])
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

# Airflow on this machine: api-server, scheduler, dag-processor and triggerer on
# 127.0.0.1:$(AIRFLOW_PORT), LocalExecutor sized to the cores, AIRFLOW_HOME=.airflow.
AIRFLOW_PORT ?= 8080
airflow: install
	$(BIN)/python -m cjm.airflow_env serve --home .airflow --port $(AIRFLOW_PORT)

bench: install
	$(BIN)/cjm bench

# Re-resolve the lock after changing dependencies in pyproject.toml.
lock: install
	$(BIN)/uv pip compile --python $(BIN)/python requirements.in -o requirements.lock --no-header

clean:
	rm -rf data .pytest_cache .ruff_cache dbt_project/target dbt_project/logs
