# Two entry points for a fresh machine with only Python >= 3.11 and git:
#   make run   — the gateway in sandbox mode on an embedded SQLite database
#   make test  — the whole test suite (SQLite, and PostgreSQL when reachable)
PYTHON ?= python3
TOOLS  := .tools
UV     := $(TOOLS)/bin/uv
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test fault fuzz lint typecheck check-migrations bench bootstrap clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check "uv>=0.5"

.venv/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen
	@touch $@

bootstrap: .venv/.synced

run: bootstrap
	$(UV) run --frozen clearing-gateway migrate
	$(UV) run --frozen clearing-gateway serve --host $(HOST) --port $(PORT)

test: bootstrap
	$(UV) run --frozen pytest $(PYTEST_ARGS)

fault: bootstrap
	$(UV) run --frozen pytest tests/faults -m fault $(PYTEST_ARGS)

fuzz: bootstrap
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-500} $(UV) run --frozen pytest tests/fuzz -s $(PYTEST_ARGS)

lint: bootstrap
	$(UV) run --frozen ruff check src tests benchmarks sdk/python
	$(UV) run --frozen ruff format --check src tests benchmarks sdk/python

typecheck: bootstrap
	$(UV) run --frozen mypy

check-migrations: bootstrap
	$(UV) run --frozen python -m clearing_gateway.migrations.check

bench: bootstrap
	$(UV) run --frozen python -m benchmarks.run

clean:
	rm -rf .venv $(TOOLS) .pytest_cache .mypy_cache .ruff_cache
