# The suite's commands. `make up` runs the suite; `make test` runs every test. Both install what is missing.
UV := ./scripts/uv.sh
RUN := $(UV) run --frozen
ROLE ?= agent
SUB ?= a-1
PYTEST_ARGS ?=
DEMO ?= 1
RATE ?= 10
DURATION ?= 60

FUZZ_EXAMPLES ?= 100

.PHONY: help install stack-install up down status test test-fast fuzz token schemas schemas-check docs bench demo simulate

help:
	@echo "make up         install what is missing, start Kafka, the MongoDB-wire server, the five services and the desktop (http://127.0.0.1:8000/)"
	@echo "make test       install what is missing (Chromium from apt for the browser tests), start a test stack on free ports and run every test"
	@echo "make fuzz       the slower fuzzing run: $(FUZZ_EXAMPLES) examples per operation, hostile cursors/headers/tokens, stateful links"
	@echo "make token ROLE=agent SUB=a-1   print a local development token"
	@echo "make demo       load the demo data into a running suite (make up does it unless DEMO=0)"
	@echo "make simulate RATE=10 DURATION=60   publish simulated contact traffic to a running suite"
	@echo "make schemas    regenerate the JSON Schema snapshots of the event contracts"
	@echo "make docs       write docs/contract.md and docs/api/ (each gateway's OpenAPI and AsyncAPI) from the code"
	@echo "make bench     run the benchmarks on a local stack, about 15 min; medians with spread, ratios to baselines of the same run, bench/results/<date>-<commit>.md (BENCH_FULL=1: 1M accounts); see bench/README.md"
	@echo "make down       stop a stack left running by 'python -m icsuite_devstack up'"

install:
	$(UV) sync --frozen --all-packages --group dev
	$(RUN) python -m icsuite_desktop.assets

stack-install: install
	$(RUN) python -m icsuite_devstack install

up: stack-install
	IC_DEMO=$(DEMO) $(RUN) python -m icsuite_devstack suite

down:
	$(RUN) python -m icsuite_devstack down

status:
	$(RUN) python -m icsuite_devstack status

test: stack-install
	$(RUN) python -m icsuite_contracts.schemas check
	IC_CHROMIUM="$$(desktop/scripts/ensure-chromium.sh)" && IC_CHROMIUM="$$IC_CHROMIUM" $(RUN) pytest $(PYTEST_ARGS)

fuzz: stack-install
	IC_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) IC_FUZZ_STATEFUL=1 $(RUN) pytest tests/integration/test_z_fuzz.py $(PYTEST_ARGS)

test-fast: install
	$(RUN) pytest -m unit $(PYTEST_ARGS)

demo: install
	$(RUN) icsuite demo load

simulate: install
	$(RUN) icsuite simulate --rate $(RATE) --duration $(DURATION)

token: install
	@$(RUN) python -m icsuite_chassis.token --role $(ROLE) --sub $(SUB)

schemas: install
	$(RUN) python -m icsuite_contracts.schemas write

docs: install
	$(RUN) python -m icsuite_tools.contract_docs write

BENCH_FULL ?= 0
BENCH_ARGS ?=

bench: stack-install
	IC_CHROMIUM="$${IC_CHROMIUM:-$$(desktop/scripts/ensure-chromium.sh)}" && IC_CHROMIUM="$$IC_CHROMIUM" \
		BENCH_FULL=$(BENCH_FULL) $(RUN) python -m bench $(BENCH_ARGS)
