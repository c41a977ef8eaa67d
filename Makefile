# govgrid: `make run` brings the demo up, `make test` runs every test.
SHELL := /bin/bash
PY := .venv/bin/python
MANAGE := $(PY) manage.py
PYTEST_ARGS ?=

.PHONY: run test setup stop reset-db lint fmt migrations-check check-deploy messages demo bench help

help:
	@echo "make run | test | stop | lint | fmt | migrations-check | check-deploy | messages | bench"

setup:
	@scripts/bootstrap.sh

run: setup
	@$(MANAGE) migrate --noinput -v 0
	@$(MANAGE) generate_city --scale demo --seed 2026 --if-empty
	@scripts/run.sh

reset-db: stop
	@psql -h 127.0.0.1 -U postgres -qc 'DROP DATABASE IF EXISTS govgrid' && echo "database dropped; 'make run' recreates it"

stop:
	@for p in web worker beat; do [ -f .run/$$p.pid ] && kill $$(cat .run/$$p.pid) 2>/dev/null; rm -f .run/$$p.pid; done; echo stopped

test: setup
	@$(PY) -m pytest -n 2 $(PYTEST_ARGS)

lint: setup
	@.venv/bin/ruff check .
	@.venv/bin/ruff format --check .

fmt:
	@.venv/bin/ruff check --fix .
	@.venv/bin/ruff format .

migrations-check: setup
	@$(MANAGE) makemigrations --check --dry-run

check-deploy: setup
	@DJANGO_SECRET_KEY=$$(python3 -c 'import secrets;print(secrets.token_urlsafe(50))') \
	  DJANGO_ALLOWED_HOSTS=govgrid.example.gov.cn \
	  GOVGRID_PII_KEYS=$$(python3 -c 'import base64,os;print(base64.urlsafe_b64encode(os.urandom(32)).decode())') \
	  GOVGRID_PII_INDEX_KEY=$$(python3 -c 'import secrets;print(secrets.token_urlsafe(32))') \
	  $(MANAGE) check --deploy --fail-level WARNING --settings govgrid.settings.production

messages:
	@$(MANAGE) makemessages -l zh_Hans -l en --ignore=.venv --ignore=node_modules --ignore=var --ignore=tests --ignore=bench --no-obsolete
	@$(MANAGE) makemessages -d djangojs -l zh_Hans -l en --ignore=.venv --ignore=node_modules --ignore=var --no-obsolete
	@# English msgids are the English interface: the en catalogue repeats them.
	@$(PY) scripts/po_english.py
	@$(MANAGE) compilemessages --ignore=.venv

bench: setup
	@$(PY) -m bench $(BENCH)
