# make demo  — set up .venv, run the example program under tracing, annotate a copy of it (mypy-checked)
# make test  — set up .venv and run the test suite
# make check — ruff and mypy --strict;  make bench — the benchmarks (ratios, one run)
# make accuracy — typeharvest's annotations against hand-written ones, beside MonkeyType and RightTyper
# PYTHON=/path/to/python picks the interpreter; VENV=dir the virtualenv (default .venv).

PYTHON ?= $(shell .ci/find-python)
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.typeharvest-installed
DEMO_DB := $(CURDIR)/examples/typeharvest.sqlite3
DEMO_COPY := $(CURDIR)/examples/annotated

.PHONY: demo test check bench accuracy venv clean

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
	@rm -rf $(DEMO_DB) $(DEMO_DB)-wal $(DEMO_DB)-shm $(DEMO_COPY)
	@echo "== Running examples/bookshop under typeharvest ($$($(BIN)/python --version))"
	cd examples && ../$(BIN)/typeharvest run --db $(DEMO_DB) -m bookshop
	@echo
	@echo "== Traced modules"
	@$(BIN)/typeharvest list-modules --db $(DEMO_DB)
	@echo "== Typed-function coverage before"
	@$(BIN)/typeharvest coverage examples/bookshop
	@echo "== Annotating a copy of bookshop in $(DEMO_COPY) (mypy judges every annotation)"
	@mkdir -p $(DEMO_COPY) && cp -r examples/bookshop examples/mypy.ini $(DEMO_COPY)/
	@cd $(DEMO_COPY) && $(CURDIR)/$(BIN)/typeharvest annotate bookshop --db $(DEMO_DB) --src .
	@echo
	@echo "== What changed in bookshop/orders.py"
	@diff -u examples/bookshop/orders.py $(DEMO_COPY)/bookshop/orders.py || true
	@echo
	@echo "== Typed-function coverage after"
	@$(BIN)/typeharvest coverage $(DEMO_COPY)/bookshop
	@echo "== Why Catalog.search got its annotation"
	@cd examples && ../$(BIN)/typeharvest explain bookshop.catalog:Catalog.search --db $(DEMO_DB)
	@echo "== Traces are in $(DEMO_DB); the annotated copy is in $(DEMO_COPY)"

test: venv
	$(BIN)/python -m pytest $(PYTEST_ARGS)

check: venv
	$(BIN)/ruff check typeharvest tests benchmarks
	$(BIN)/ruff format --check typeharvest tests benchmarks
	$(BIN)/mypy --strict typeharvest
	$(BIN)/typeharvest coverage typeharvest --fail-under 100 --markdown > /dev/null

bench: venv
	@for script in benchmarks/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

# Downloads three projects from PyPI and runs their test suites under each tool (about 8 minutes).
accuracy: venv
	$(BIN)/python benchmarks/accuracy/run.py

clean:
	rm -rf $(VENV) .venv-* .mypy_cache .pytest_cache .ruff_cache examples/typeharvest.sqlite3* examples/annotated
