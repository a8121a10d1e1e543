# Xilingol Grassland Atlas — the two commands of the quick start are `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
PORT ?= 5000
HOST ?= 127.0.0.1
export ATLAS_STORE ?= $(CURDIR)/var/atlas.gpkg

.PHONY: run dev test lint bench screenshots build-data store clean browser fonts postgis test-postgis qgis \
	test-memory

$(VENV)/.runtime: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt requirements-build.txt
	$(PIP) install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

$(VENV)/.build: $(VENV)/.runtime requirements-build.txt
	$(PIP) install --quiet --disable-pip-version-check -r requirements-build.txt
	touch $@

# The embedded GeoPackage store, loaded from the committed GeoJSON when missing.
store: $(VENV)/.runtime
	$(PY) -m layers.prepare --if-missing

## make run: install, prepare the embedded store if missing, serve on $(HOST):$(PORT) with waitress
## and the connection limits of webmap/core/serving.py (ATLAS_… settings: README, Deployment).
run: store
	@echo "Serving the atlas on http://$(HOST):$(PORT)/"
	$(PY) -m webmap.core.serving --host $(HOST) --port $(PORT)

## make dev: Flask's development server with reload.
dev: store
	$(VENV)/bin/flask --app webmap run --debug --host $(HOST) --port $(PORT)

# Debian's Chromium for the browser tests (Playwright's own browser download does not work offline).
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  echo "Installing Debian's chromium for the browser tests"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q chromium; \
	fi

# A CJK font so that Chromium draws the pages' Chinese, in screenshots and in printed PDFs
# (Debian's fonts-wqy-microhei, 5 MB).  The print tests read the PDF with pypdfium2
# (requirements-dev.txt).
fonts:
	@if ! fc-list 2>/dev/null | grep -qi "WenQuanYi Micro Hei"; then \
	  echo "Installing Debian's fonts-wqy-microhei for Chinese text in pages and PDFs"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q fonts-wqy-microhei; \
	fi

# Debian's PostgreSQL + PostGIS for the PostGIS backend tests: the suite starts its own
# throwaway cluster on a loopback port (tests/pg.py), so no service is configured here.
PG_MAJOR ?= 15
postgis:
	@if [ ! -x /usr/lib/postgresql/$(PG_MAJOR)/bin/initdb ] || \
	    [ ! -f /usr/share/postgresql/$(PG_MAJOR)/extension/postgis.control ]; then \
	  echo "Installing Debian's postgresql and postgresql-$(PG_MAJOR)-postgis-3 for the PostGIS tests"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q \
	    --no-install-recommends postgresql postgresql-$(PG_MAJOR)-postgis-3; \
	fi

# Second pass on PostGIS (ATLAS_TEST_BACKEND=postgis moves the app/store fixtures there):
# the API and analysis suites again, minus suites that never touch a store, suites that
# already run on both backends, and the fault test (it inspects the GeoPackage's lock).
PG_PASS_SKIP := test_store.py test_postgis.py test_read.py test_validate.py test_data.py \
	test_browser.py test_fault.py test_pg_tiles.py test_pg_sql.py test_pg_copy.py test_sfc.py \
	test_encoded.py test_tile_thinning.py

## make test: install what the tests need and run the whole suite (then the API on PostGIS).
## QGIS (Debian's, ~1 GB, about a minute once) is a tested client: `make qgis` installs it.
test: $(VENV)/.dev browser fonts postgis qgis
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -n 2 --dist loadgroup -q
	ATLAS_TEST_BACKEND=postgis $(PY) -m pytest -n 2 --dist loadgroup -q \
	  -m "not browser and not gpkg_only" $(addprefix --ignore=tests/,$(PG_PASS_SKIP)) tests

## make test-memory: issue 12's memory group (tests/test_memory.py, deselected from make test by
## pyproject's addopts): a million sites and a million-point layer through HTTP against a running
## server, each request's growth of the server's peak RSS (VmHWM) under 1 GB; ~5 min on 2 cores.
test-memory: $(VENV)/.dev
	$(PY) -m pytest -q -m memory tests/test_memory.py

## make test-postgis: only that second pass.
test-postgis: $(VENV)/.dev postgis qgis
	ATLAS_TEST_BACKEND=postgis $(PY) -m pytest -n 2 --dist loadgroup -q \
	  -m "not browser and not gpkg_only" $(addprefix --ignore=tests/,$(PG_PASS_SKIP)) tests

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check .

## make build-data: rebuild data/xilingol/ from the source packages and authored files.
build-data: $(VENV)/.build
	$(PY) -m data.build

screenshots: $(VENV)/.dev browser fonts store
	$(PY) -m tools.screenshots docs/screenshots

# make bench: the side-by-side benchmarks of issue 5 (≤ 10 min; wrk from Debian as load generator,
# pygeoapi installed by the benchmark into benchmarks/.work/).
bench: $(VENV)/.dev browser
	@command -v wrk >/dev/null || { if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q \
	  wrk python3-venv libsqlite3-mod-spatialite || echo "no wrk: the Python load generator is used"; }
	$(PY) -m benchmarks.run

clean:
	rm -rf var/ .pytest_cache

# Debian's QGIS (python3-qgis, for tests/qgis_client.py run with /usr/bin/python3) and GDAL's
# command-line tools (ogrinfo: an independent reader of the exports), only when missing.
# About 960 MB installed, under a minute from Debian's mirror.
qgis:
	@if ! /usr/bin/python3 -c "import qgis.core" 2>/dev/null || ! command -v ogrinfo >/dev/null; then \
	  echo "Installing Debian's python3-qgis, qgis-providers and gdal-bin for the QGIS client tests"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q \
	    --no-install-recommends python3-qgis qgis-providers gdal-bin; \
	fi

# make bench-full: make bench plus the large sizes of issue 12 — PostGIS at 10M points beside
# tipg (items and tiles, A/B), overlays of 1M sites and a 1M-point layer through HTTP, each
# server under a memory cap (ATLAS_BENCH_MEM_CAP_MB, default 3000) — about 30-40 min and
# ~3 GB of disk for the throwaway cluster; results in benchmarks/results/latest-full.json.
.PHONY: bench-full
bench-full: $(VENV)/.dev browser postgis
	@command -v wrk >/dev/null || { if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q \
	  wrk python3-venv libsqlite3-mod-spatialite || echo "no wrk: the Python load generator is used"; }
	$(PY) -m benchmarks.run --full
