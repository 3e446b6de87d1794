# The suite's commands. `make up` runs the suite; `make test` runs every test. Both install what is missing.
UV := ./scripts/uv.sh
RUN := $(UV) run --frozen
ROLE ?= agent
SUB ?= a-1
PYTEST_ARGS ?=

.PHONY: help install stack-install up down status test test-fast token schemas schemas-check bench

help:
	@echo "make up         install what is missing, start Kafka, the MongoDB-wire server and the five services"
	@echo "make test       install what is missing, start a test stack on free ports and run every test"
	@echo "make token ROLE=agent SUB=a-1   print a local development token"
	@echo "make schemas    regenerate the JSON Schema snapshots of the event contracts"
	@echo "make down       stop a stack left running by 'python -m icsuite_devstack up'"

install:
	$(UV) sync --frozen --all-packages --group dev

stack-install: install
	$(RUN) python -m icsuite_devstack install

up: stack-install
	$(RUN) python -m icsuite_devstack suite

down:
	$(RUN) python -m icsuite_devstack down

status:
	$(RUN) python -m icsuite_devstack status

test: stack-install
	$(RUN) python -m icsuite_contracts.schemas check
	$(RUN) pytest $(PYTEST_ARGS)

test-fast: install
	$(RUN) pytest -m unit $(PYTEST_ARGS)

token: install
	@$(RUN) python -m icsuite_chassis.token --role $(ROLE) --sub $(SUB)

schemas: install
	$(RUN) python -m icsuite_contracts.schemas write
