# make demo  — set up .venv and run the example program under tracing, then print its inferred stubs
# make test  — set up .venv and run the test suite
# make check — ruff and mypy --strict;  make bench — the benchmarks (ratios, one run)
# PYTHON=/path/to/python picks the interpreter; VENV=dir the virtualenv (default .venv).

PYTHON ?= $(shell .ci/find-python)
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.typeharvest-installed
DEMO_DB := $(CURDIR)/examples/typeharvest.sqlite3

.PHONY: demo test check bench venv clean

venv: $(STAMP)

# Rebuilt when pyproject.toml changes or when PYTHON names another interpreter than the venv's.
$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "error: no Python >= 3.10 found; set PYTHON=" >&2; exit 1; }
	@if [ -x $(BIN)/python ] && [ "$$(cat $(VENV)/.typeharvest-python 2>/dev/null)" != "$(PYTHON)" ]; then rm -rf $(VENV); fi
	@[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	@echo "$(PYTHON)" > $(VENV)/.typeharvest-python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

ifneq ($(PYTHON),)
ifneq ($(shell cat $(VENV)/.typeharvest-python 2>/dev/null),$(PYTHON))
.PHONY: $(STAMP)
endif
endif

demo: venv
	@rm -f $(DEMO_DB) $(DEMO_DB)-wal $(DEMO_DB)-shm
	@echo "== Running examples/bookshop under typeharvest ($$($(BIN)/python --version))"
	cd examples && ../$(BIN)/typeharvest run --db $(DEMO_DB) -m bookshop
	@echo
	@echo "== Traced modules"
	@$(BIN)/typeharvest list-modules --db $(DEMO_DB)
	@echo "== Stub inferred for bookshop.catalog"
	@$(BIN)/typeharvest annotate bookshop.catalog --db $(DEMO_DB) --stub --out -
	@echo
	@echo "== Stub inferred for bookshop.orders"
	@$(BIN)/typeharvest annotate bookshop.orders --db $(DEMO_DB) --stub --out -
	@echo
	@echo "== Traces are in $(DEMO_DB)"

test: venv
	$(BIN)/python -m pytest $(PYTEST_ARGS)

check: venv
	$(BIN)/ruff check typeharvest tests benchmarks
	$(BIN)/ruff format --check typeharvest tests benchmarks
	$(BIN)/mypy --strict typeharvest
	$(BIN)/typeharvest coverage typeharvest --fail-under 100 --markdown > /dev/null

bench: venv
	@for script in benchmarks/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) .venv-* .mypy_cache .pytest_cache .ruff_cache examples/typeharvest.sqlite3*
