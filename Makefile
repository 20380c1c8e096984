# The two set-up commands of the README: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000

.PHONY: demo test install bench clean lock

$(BIN)/innonet: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c requirements.lock -e '.[test]'
	touch $@

install: $(BIN)/innonet

# Loads the bundled 2021 consortia into innonet-demo.db (once), then serves it.
demo: install
	$(BIN)/innonet --db sqlite:///innonet-demo.db demo --port $(PORT)

# PostgreSQL tests run when INNONET_TEST_POSTGRESQL_URL is set; browser tests when Chromium is installed.
# Tests run in parallel (TEST_WORKERS processes) and in a random order whose seed is printed:
# PYTEST_ARGS="--randomly-seed=N" repeats an order (docs/development.md).
TEST_WORKERS ?= 3
test: install
	$(BIN)/ruff check src
	$(BIN)/mypy
	$(BIN)/python -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

bench: install
	$(BIN)/python benchmarks/bench_import.py
	$(BIN)/python benchmarks/bench_analytics.py
	$(BIN)/python benchmarks/bench_recommend.py
	$(BIN)/python benchmarks/bench_concurrency.py
	$(BIN)/python benchmarks/bench_bounds.py
	$(BIN)/python benchmarks/bench_light_page.py
	$(BIN)/python benchmarks/bench_faults.py
	$(BIN)/python benchmarks/bench_first_recommendation.py
	$(BIN)/python benchmarks/bench_load.py
	$(BIN)/python benchmarks/bench_kpis.py

# Renews requirements.lock from the newest versions pyproject.toml allows.
lock:
	rm -rf $(VENV).lock
	$(PYTHON) -m venv $(VENV).lock
	$(VENV).lock/bin/pip install --quiet --upgrade pip
	$(VENV).lock/bin/pip install --quiet -e '.[test]'
	(echo "# Exact versions that make install and CI use (pip constraints); make lock renews them."; \
	 $(VENV).lock/bin/pip freeze --exclude-editable) > requirements.lock
	rm -rf $(VENV).lock

clean:
	rm -rf $(VENV) innonet-demo.db* innonet-data .pytest_cache
