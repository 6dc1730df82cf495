# geogrid: the two set-up commands are `make run` and `make test`; both install what they need.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
NODE_STAMP := node_modules/.installed-stamp

.PHONY: install run test lint format bench bench-publish bench-postgis bench-switch bench-tasks bench-page bench-serve bench-live bench-incidents bench-figures bench-warnings bench-planning bench-ogc translations clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# Leaflet, its plugins and Swagger UI, pinned in package-lock.json, served by the app itself.
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

install: $(STAMP) $(NODE_STAMP)

# The service on the embedded default: SQLite file in instance/ + the bundled sample district;
# on a fresh database it creates demo accounts and prints their passwords once.
run: install
	$(VENV)/bin/geogrid serve --demo

test: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m pytest -n 2

lint: $(STAMP)
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

bench: install
	$(PY) bench/locate_bench.py

bench-postgis: install
	$(PY) bench/postgis_bench.py

bench-switch: install
	$(PY) bench/switch_bench.py

bench-tasks: install
	$(PY) bench/tasks_bench.py

bench-serve: install
	$(PY) bench/serve_bench.py

# Live push: SSE delivery latency against pages polling the list, and streams held
bench-live: install
	PYTHONPATH=$(CURDIR) $(PY) bench/live_bench.py

bench-publish: install
	$(PY) bench/publish_bench.py --postgres postgresql://postgres@127.0.0.1:5432/postgres

bench-page: install
	$(PY) bench/page_bench.py --runs 7

# 120,000 sample incidents on SQLite, and on PostGIS when $GEOGRID_TEST_POSTGRES_URL is set.
bench-incidents: install
	$(PY) bench/incidents_bench.py

# The figures page and API on the 120,000-incident history, cold/warm/after a change, against
# the naive computation; on PostGIS too when $GEOGRID_TEST_POSTGRES_URL is set.
bench-figures: install
	$(PY) bench/figures_bench.py

bench-warnings: install
	$(PY) bench/warnings_bench.py

bench-planning: install
	$(PY) bench/planning_bench.py

# After changing interface strings: extract them and merge into the Chinese catalogue, then
# translate the new entries in web/translations/zh/LC_MESSAGES/messages.po.
# geogrid's /ogc against pygeoapi on the same PostGIS rows (pygeoapi goes into bench/out/pygeoapi-venv).
bench-ogc: install
	$(PY) bench/ogc_bench.py --postgres postgresql://postgres@127.0.0.1:5432/postgres

translations: $(STAMP)
	$(VENV)/bin/pybabel extract -F babel.cfg -k N_ --no-location --sort-output -o web/translations/messages.pot .
	$(VENV)/bin/pybabel update -i web/translations/messages.pot -d web/translations -l zh --no-fuzzy-matching --ignore-obsolete

clean:
	rm -rf $(VENV) node_modules .pytest_cache .ruff_cache *.egg-info
