# Everyday commands. Every target installs what it needs from the repository's own files.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# pyenv: make the Lambda runtime's interpreter (python3.12) and its neighbours resolvable.
export PYENV_VERSION ?= 3.11.7:3.12.1:3.13.0
export SAM_CLI_TELEMETRY := 0
export SAGEMAKER_SUPPRESS_V2_WARNING := 1
export PYTHONDONTWRITEBYTECODE := 1

ENV ?= dev
PY312 ?= $(shell command -v python3.12 2>/dev/null || echo python3)
VENV := .venv
PY := $(VENV)/bin/python
SAM_VENV := .venv-sam
CHECKOV_VENV := .venv-checkov
DRIFT_VENV := .venv-drift
SAM_CLI_VERSION := 1.170.0
CHECKOV_VERSION := 3.3.30

# ---------------------------------------------------------------- environments
$(VENV)/.installed: requirements/dev.txt layers/shared/requirements.txt pyproject.toml
	test -x $(PY) || $(PY312) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements/dev.txt
	$(PY) -m pip install -q --no-deps -e .
	touch $@

$(SAM_VENV)/.installed:
	test -x $(SAM_VENV)/bin/python || $(PY312) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install -q --upgrade pip
	$(SAM_VENV)/bin/pip install -q aws-sam-cli==$(SAM_CLI_VERSION)
	touch $@

$(CHECKOV_VENV)/.installed:
	test -x $(CHECKOV_VENV)/bin/python || $(PY312) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install -q --upgrade pip
	$(CHECKOV_VENV)/bin/pip install -q checkov==$(CHECKOV_VERSION)
	touch $@

# the drift-check job's environment (its container image on AWS): Evidently, never in the layer or .venv
$(DRIFT_VENV)/.installed: pipeline/drift/requirements.txt
	test -x $(DRIFT_VENV)/bin/python || $(PY312) -m venv $(DRIFT_VENV)
	$(DRIFT_VENV)/bin/pip install -q --upgrade pip
	$(DRIFT_VENV)/bin/pip install -q -r pipeline/drift/requirements.txt
	touch $@

.PHONY: venv drift-env
venv: $(VENV)/.installed ## create the development virtualenv
drift-env: $(DRIFT_VENV)/.installed ## create the drift-check job's virtualenv (Evidently)

# ---------------------------------------------------------------- checks
.PHONY: test lint typecheck validate pytest
test: lint typecheck validate build pytest ## every check: ruff, mypy, sam validate --lint, cfn-lint, checkov, sam build, pytest

lint: $(VENV)/.installed ## ruff lint and format check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(VENV)/.installed ## mypy: strict on the layer and the functions, lenient on local/, tools/, pipeline/ (pyproject.toml)
	$(VENV)/bin/mypy

validate: $(VENV)/.installed $(SAM_VENV)/.installed $(CHECKOV_VENV)/.installed ## template checks
	$(SAM_VENV)/bin/sam validate --lint --template template.yaml --region us-east-1
	$(VENV)/bin/cfn-lint template.yaml
	$(CHECKOV_VENV)/bin/checkov --quiet --compact --skip-download --framework cloudformation -f template.yaml

pytest: $(VENV)/.installed $(DRIFT_VENV)/.installed ## the test suite
	$(PY) -m pytest $(PYTEST_ARGS)

# ---------------------------------------------------------------- local stack
.PHONY: demo serve replay entries run-pipeline
demo: $(VENV)/.installed $(DRIFT_VENV)/.installed ## the whole lifecycle on the embedded AWS (its drift checks run in .venv-drift)
	$(PY) -m local demo --env $(ENV)

serve: $(VENV)/.installed $(DRIFT_VENV)/.installed ## embedded AWS with the stack deployed; prints one JSON line, runs until Ctrl-C
	$(PY) -m local serve --env $(ENV) $(if $(PORT),--port $(PORT))

EVENTS ?= events
replay: $(VENV)/.installed ## feed events (file or folder) to the served stack (make serve), else a stack of its own: make replay EVENTS=events/x.json
	$(PY) -m local replay --env $(ENV) $(EVENTS)

entries: $(VENV)/.installed ## events (file or folder) as `aws events put-events --entries file://...` files; prints the commands
	$(PY) -m tools.event_entries --env $(ENV) $(EVENTS)

TARGET ?= local
run-pipeline: $(VENV)/.installed ## upsert + start the pipeline: on `make serve`'s stack, else a one-shot local run; TARGET=aws for AWS
	@if [ "$(TARGET)" = aws ]; then \
		$(PY) -m pipeline run --env $(ENV) --aws; \
	elif $(PY) -m tools.stackinfo served $(ENV); then \
		$(PY) -m pipeline run --env $(ENV); \
	else \
		$(PY) -m local.pipelines --env $(ENV); \
	fi

.PHONY: drift-check
drift-check: $(VENV)/.installed $(DRIFT_VENV)/.installed ## drift check of ENV's endpoint now (served stack, else AWS); its summary as one JSON line: make drift-check [ENV=dev] [HOURS=1]
	$(PY) -m tools.drift_check --env $(ENV) --hours $(or $(HOURS),1)

# ---------------------------------------------------------------- governance
.PHONY: artifacts
artifacts: $(VENV)/.installed ## tags of every artifact of one execution: make artifacts EXECUTION=<id|arn> [JSON=1]
	@test -n "$(EXECUTION)" || { echo "usage: make artifacts EXECUTION=<execution id or ARN> [ENV=dev] [JSON=1]"; exit 2; }
	$(PY) -m tools.artifacts --env $(ENV) $(if $(JSON),--json) $(EXECUTION)

.PHONY: monitor
monitor: $(VENV)/.installed ## endpoint, packages, executions, dead-letter queues, alarms: make monitor [ENV=dev] [WATCH=5]
	$(PY) -m tools.monitor --env $(ENV) $(if $(WATCH),--watch $(WATCH))

.PHONY: approve reject
approve: $(VENV)/.installed ## approve a model package version like the console: make approve VERSION=3 [ENV=dev]
	$(PY) -m tools.approval approve --version $(VERSION) --env $(ENV) $(if $(NOTE),--note "$(NOTE)")

reject: $(VENV)/.installed ## reject a model package version (the endpoint rolls back): make reject VERSION=3
	$(PY) -m tools.approval reject --version $(VERSION) --env $(ENV) $(if $(NOTE),--note "$(NOTE)")

.PHONY: promote promotions share-registry
promote: $(VENV)/.installed ## approve a version waiting at a stage (as that stage's environment): make promote VERSION=3 STAGE=Production
	@test -n "$(VERSION)" -a -n "$(STAGE)" || { echo "usage: make promote VERSION=<n> STAGE=<Staging|Production> [ENV=prod] [NOTE=...]"; exit 2; }
	$(PY) -m tools.promotion promote --version $(VERSION) --stage $(STAGE) $(if $(filter command line,$(origin ENV)),--env $(ENV)) $(if $(NOTE),--note "$(NOTE)")

share-registry: $(VENV)/.installed ## make the registry's group discoverable across accounts: as dev (promote its RAM share), then ENV=staging / ENV=prod (accept)
	$(PY) -m tools.registry_share $(if $(filter-out dev,$(ENV)),accept,promote) --env $(ENV)

promotions: $(VENV)/.installed ## each version's way through the stages: make promotions [VERSION=3] [ENV=dev]
	$(PY) -m tools.promotion history --env $(ENV) $(if $(VERSION),--version $(VERSION))

# ---------------------------------------------------------------- benchmarks
.PHONY: bench
bench: $(VENV)/.installed $(DRIFT_VENV)/.installed ## print the benchmark figures
	@for b in bench/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

# ---------------------------------------------------------------- AWS
.PHONY: build deploy
build: $(SAM_VENV)/.installed ## sam build into .aws-sam/build (arm64 wheels for the layer; cached by content)
	$(SAM_VENV)/bin/sam build --template template.yaml --cached

deploy: build $(VENV)/.installed ## sam deploy to ENV (dev | staging | prod) with samconfig.toml, tagged with the git SHA; then its drift-check pipeline
	$(SAM_VENV)/bin/sam deploy --config-env $(ENV) \
		--parameter-overrides $$($(PY) -m tools.stackinfo deploy-overrides $(ENV) $$(git rev-parse --short HEAD))
	$(PY) -m pipeline upsert-drift-check --env $(ENV) --aws

# ---------------------------------------------------------------- maintenance
.PHONY: lock clean help
lock: ## re-pin requirements/dev.txt from requirements/dev.in
	rm -rf .venv-lock && $(PY312) -m venv .venv-lock && .venv-lock/bin/pip install -q -r requirements/dev.in
	.venv-lock/bin/pip freeze > requirements/dev.txt && rm -rf .venv-lock

clean: ## remove build output and local state
	rm -rf .aws-sam .local .pytest_cache

help:
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'
