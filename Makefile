# Marquee: two commands on a fresh machine with Python 3.11 — `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
SAM_VENV := .venv-sam
SAM := $(SAM_VENV)/bin/sam
export SAM_CLI_TELEMETRY := 0
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run stop reset test test-fast install site publish-site browser lint typecheck sam-check bench examples catalogue clean

# A virtual environment made by another Python (say 3.12) is rebuilt, not reused: the project needs 3.11. Checked on
# every make run, since its stamp file alone would look up to date.
IS_311 := import sys; print(sys.version_info[:2] == (3, 11))
ifneq ($(wildcard $(BIN)/python),)
ifneq ($(shell $(BIN)/python -c '$(IS_311)' 2>/dev/null),True)
$(info $(VENV) was made with another Python than 3.11: recreating it)
$(shell rm -rf $(VENV))
endif
endif
ifneq ($(wildcard $(SAM_VENV)/bin/python),)
ifneq ($(shell $(SAM_VENV)/bin/python -c '$(IS_311)' 2>/dev/null),True)
$(shell rm -rf $(SAM_VENV))
endif
endif

$(BIN)/.installed: pyproject.toml
	@[ "$$($(PYTHON) -c '$(IS_311)' 2>/dev/null)" = True ] || { \
	  echo "Marquee needs Python 3.11; $(PYTHON) is $$($(PYTHON) --version 2>&1). Install 3.11, or run make PYTHON=/path/to/python3.11." >&2; \
	  exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[dev]"
	touch $@

$(SAM_VENV)/.installed: requirements-sam.txt
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install -q --upgrade pip
	$(SAM_VENV)/bin/pip install -q -r requirements-sam.txt
	touch $@

install: $(BIN)/.installed

## The portal's front-end libraries: npm installs the locked versions, vendor/ gets the files the pages load.
VENDOR := site/vendor
$(VENDOR)/.built: site/package.json site/package-lock.json
	cd site && SCARF_ANALYTICS=false npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	rm -rf $(VENDOR)
	mkdir -p $(VENDOR)/bootstrap/css $(VENDOR)/bootstrap/js $(VENDOR)/chart.js $(VENDOR)/swagger-ui
	cp site/node_modules/bootstrap/dist/css/bootstrap.min.css $(VENDOR)/bootstrap/css/
	cp site/node_modules/bootstrap/dist/js/bootstrap.bundle.min.js $(VENDOR)/bootstrap/js/
	cp site/node_modules/bootstrap/LICENSE $(VENDOR)/bootstrap/
	cp site/node_modules/chart.js/dist/chart.umd.js site/node_modules/chart.js/LICENSE.md $(VENDOR)/chart.js/
	cp site/node_modules/swagger-ui-dist/swagger-ui-bundle.js site/node_modules/swagger-ui-dist/swagger-ui.css \
	   site/node_modules/swagger-ui-dist/LICENSE $(VENDOR)/swagger-ui/
	touch $@

site: $(VENDOR)/.built

## Upload the portal to a deployed stack's bucket with its /config.js: make publish-site STACK=marquee
publish-site: install site
	@[ -n "$(STACK)" ] || { echo "usage: make publish-site STACK=<stack name> [REGION=<region>]" >&2; exit 2; }
	$(BIN)/python scripts/publish_site.py --stack $(STACK) $(if $(REGION),--region $(REGION))


## Start the whole local stack: embedded PostgreSQL, migrations, catalogue, gateway on :8000.
## `make run PORT=8001 HOST=0.0.0.0` listens elsewhere (same as `marquee run --port 8001 --host 0.0.0.0`);
## SITE_PORT= and SITE_HOST= do the same for the portal (`--site-port`, `--site-host`).
run: install site
	$(BIN)/marquee run$(if $(HOST), --host $(HOST))$(if $(PORT), --port $(PORT))$(if $(SITE_HOST), --site-host $(SITE_HOST))$(if $(SITE_PORT), --site-port $(SITE_PORT))

## Stop this checkout's stack (a `marquee run` in another terminal, or what a killed one left running).
stop: install
	$(BIN)/marquee stop

## Delete the local stack's data (.marquee/: database, demo key), keeping the virtual environments; asks first.
## `make reset YES=1` does not ask (`marquee reset --yes`): without a terminal (CI, a pipe) there is no one to ask.
reset: install
	$(BIN)/marquee reset$(if $(filter 1 y yes true,$(YES)), --yes)

lint: install
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

typecheck: install
	$(BIN)/mypy

## `sam validate --lint` and `sam build`, offline, in SAM's own tool environment (it pins its own boto3).
sam-check: $(SAM_VENV)/.installed
	$(SAM) validate --lint --region us-east-1
	$(SAM) build --cached --parallel

## Chromium for the browser tests, from the operating system's packages (Playwright never downloads a browser).
browser:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "The browser tests need Chromium: run 'sudo apt-get install -y chromium' (Debian/Ubuntu) and retry." >&2; \
	    exit 1; \
	  fi; }

## Install everything and run every check and test.
test: install site lint typecheck sam-check browser
	$(BIN)/pytest

## The inner loop: lint, types and every test not marked slow (under a minute).
test-fast: install lint typecheck
	$(BIN)/pytest -m "not slow" -q

## Benchmarks (bench/README.md); the gateway benchmark drives HTTP with wrk (a Debian package).
bench: install
	command -v wrk >/dev/null || apt-get install -y wrk
	$(BIN)/python -m bench

## Re-capture the README's example requests and responses from a live local stack.
examples: install
	$(BIN)/python scripts/capture_examples.py
	$(BIN)/python scripts/capture_admin_examples.py

## Rebuild data/movies.csv.gz from the Wikipedia film list: SOURCE= a checkout of github.com/prust/wikipedia-movie-data
## or its films as one wikipedia-movies.json.gz (data/README.md says how to get either).
catalogue: install
	$(BIN)/python scripts/build_catalogue.py$(if $(SOURCE), --source $(SOURCE))

clean:
	rm -rf $(VENV) $(SAM_VENV) .aws-sam .marquee site/node_modules $(VENDOR)
