# make demo  — set up .venv, trace a few hundred requests to the example Django shop, annotate a copy of it
#              (mypy-checked with django-stubs), coverage before and after; under a minute
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
DEMO_RUN := $(CURDIR)/examples/.demo-run
DEMO_APPS := catalog orders
DEMO_PACKAGES := $(DEMO_APPS) shopsite
DEMO_REQUESTS ?= 300
DEMO_BIN := $(abspath $(BIN))

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
	@rm -rf $(DEMO_DB) $(DEMO_DB)-wal $(DEMO_DB)-shm $(DEMO_COPY) $(DEMO_RUN)
	@mkdir -p $(DEMO_RUN)
	@echo "== 1. The example Django shop (examples/) serves $(DEMO_REQUESTS) requests; TypeHarvestMiddleware traces them"
	@echo "      ($$($(BIN)/python --version), Django $$($(BIN)/python -c 'import django; print(django.get_version())'))"
	@cd examples && TYPEHARVEST_DB=$(DEMO_DB) SHOPSITE_DB=$(DEMO_RUN)/shopsite.sqlite3 \
		$(DEMO_BIN)/python drive.py --requests $(DEMO_REQUESTS) --report $(DEMO_RUN)/requests.json
	@echo
	@echo "== 2. Traced modules"
	@$(BIN)/typeharvest list-modules --db $(DEMO_DB)
	@echo "== 3. Typed-function coverage before"
	@cd examples && $(DEMO_BIN)/typeharvest coverage $(DEMO_APPS)
	@cd examples && $(DEMO_BIN)/typeharvest coverage $(DEMO_APPS) --ready --db $(DEMO_DB) --json \
		> $(DEMO_RUN)/coverage-before.json
	@echo "== 4. Annotating a copy of the shop in $(DEMO_COPY) (mypy with django-stubs judges every annotation)"
	@mkdir -p $(DEMO_COPY) && cd examples && cp -R $(DEMO_PACKAGES) manage.py mypy.ini $(DEMO_COPY)/
	@find $(DEMO_COPY) -name __pycache__ -prune -exec rm -rf {} +
	@cd $(DEMO_COPY) && $(DEMO_BIN)/typeharvest annotate $(DEMO_APPS) --db $(DEMO_DB) --src . \
		> $(DEMO_RUN)/annotate.txt; status=$$?; cat $(DEMO_RUN)/annotate.txt; exit $$status
	@echo
	@echo "== 5. mypy on the annotated copy"
	@cd $(DEMO_COPY) && $(DEMO_BIN)/mypy $(DEMO_PACKAGES) > $(DEMO_RUN)/mypy.txt; \
		status=$$?; cat $(DEMO_RUN)/mypy.txt; exit $$status
	@echo
	@echo "== 6. What changed in orders/services.py"
	@cd examples && diff -u -L orders/services.py -L annotated/orders/services.py \
		orders/services.py $(DEMO_COPY)/orders/services.py; [ $$? -le 1 ]
	@echo
	@echo "== 7. Typed-function coverage after"
	@cd $(DEMO_COPY) && $(DEMO_BIN)/typeharvest coverage $(DEMO_APPS)
	@cd $(DEMO_COPY) && $(DEMO_BIN)/typeharvest coverage $(DEMO_APPS) --ready --db $(DEMO_DB) --json \
		> $(DEMO_RUN)/coverage-after.json
	@echo "== 8. Why catalog.services:similar_titles got its annotation"
	@cd examples && $(DEMO_BIN)/typeharvest explain catalog.services:similar_titles --db $(DEMO_DB)
	@$(BIN)/python examples/summary.py $(DEMO_RUN) --db $(DEMO_DB) --copy $(DEMO_COPY) --venv-bin $(BIN)

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
	rm -rf $(VENV) .venv-* .mypy_cache .pytest_cache .ruff_cache examples/typeharvest.sqlite3* examples/shopsite.sqlite3* \
	examples/annotated examples/.demo-run examples/.mypy_cache
