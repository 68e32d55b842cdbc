# Two commands matter: `make run` and `make test` (see README.md).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: setup i18n db run serve test test-postgres bench bench-load clean

$(BIN)/.installed: requirements.txt requirements-dev.txt
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@

setup: $(BIN)/.installed i18n

i18n: $(BIN)/.installed
	$(BIN)/python -m app.i18n compile

# The demo runs the sandboxes of the outside services (README "Outside services").
db: setup
	REGISTRY_SANDBOX=1 REGISTRY_DEMO=1 $(BIN)/flask --app run db upgrade
	REGISTRY_SANDBOX=1 REGISTRY_DEMO=1 $(BIN)/flask --app run seed-demo
	REGISTRY_SANDBOX=1 REGISTRY_DEMO=1 $(BIN)/flask --app run demo-ca

run: db
	REGISTRY_SANDBOX=1 REGISTRY_DEMO=1 $(BIN)/python run.py

# Production server (README, Deployment): gunicorn with threads on REGISTRY_BIND (0.0.0.0:8000);
# workers from gunicorn.conf.py (REGISTRY_WORKERS, or 2 x CPU + 1 up to 8) unless `make serve WORKERS=n`.
# Set REGISTRY_DATABASE_URL (PostgreSQL) and the secrets first; migrate once with `flask --app run db upgrade`.
serve: setup
	$(BIN)/gunicorn -c gunicorn.conf.py $(if $(WORKERS),-w $(WORKERS)) wsgi:app

test: setup
	$(BIN)/pytest -q

# The whole suite again on PostgreSQL; needs REGISTRY_TEST_DATABASE_URL (set by .ci/run).
test-postgres: setup
	test -n "$$REGISTRY_TEST_DATABASE_URL"
	$(BIN)/pytest -q

bench: db
	REGISTRY_SANDBOX=1 REGISTRY_DEMO=1 $(BIN)/python bench/pages.py

# Throughput under load against the same-SQL ceiling (README, Speed); seeds 1M units / 200k cases once.
bench-load: setup
	$(BIN)/python bench/load.py

clean:
	rm -rf $(VENV) instance
