# gridhouse: `make demo` serves the demo district, `make test` runs every check. Both set up
# everything they need first (system packages as root, .venv, PostGIS) and are idempotent.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
ASSETS := maps/assets

.PHONY: demo test setup browser gdal lint pytest bench clean-cluster clean-bench

demo: setup
	$(BIN)/gridhouse demo

test: setup browser gdal lint pytest

setup: $(VENV)/.installed $(ASSETS)/node_modules/.installed
	$(BIN)/gridhouse db install

# The pages' JavaScript and CSS (Leaflet, VectorGrid, Geoman, Chart.js, Bootstrap, ...), pinned
# in maps/assets/package-lock.json and served by gridhouse itself: installed with Debian's npm
# (added when missing, as root) into maps/assets/node_modules (git-ignored).
$(ASSETS)/node_modules/.installed: $(ASSETS)/package.json $(ASSETS)/package-lock.json
	@command -v npm >/dev/null || { \
	  [ "$$(id -u)" = 0 ] || { echo "npm is missing: as root run apt-get install -y npm" >&2; exit 1; }; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends npm >/dev/null; }
	cd $(ASSETS) && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

# Debian's Chromium and ChromeDriver for the browser tests (tests/e2e), a CJK font so that
# screenshots show Chinese, and libatomic1, which the Node.js inside Playwright's Python wheel
# links against (a minimal Debian lacks it); installed when missing, as root.
BROWSER_PACKAGES := chromium chromium-driver fonts-wqy-microhei libatomic1
browser:
	@dpkg -s $(BROWSER_PACKAGES) >/dev/null 2>&1 || { \
	  [ "$$(id -u)" = 0 ] || { echo "as root run apt-get install -y $(BROWSER_PACKAGES)" >&2; exit 1; }; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(BROWSER_PACKAGES) >/dev/null; }

# Debian's GDAL tools (ogrinfo, ogr2ogr): tests/api/test_ogc_gdal.py reads /ogc with them as a
# GIS client would; installed when missing, as root.
GDAL_PACKAGES := gdal-bin
gdal:
	@dpkg -s $(GDAL_PACKAGES) >/dev/null 2>&1 || { \
	  [ "$$(id -u)" = 0 ] || { echo "as root run apt-get install -y $(GDAL_PACKAGES)" >&2; exit 1; }; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(GDAL_PACKAGES) >/dev/null; }

# Debian's python3 may lack venv/ensurepip: install python3-venv when it is missing (as root).
$(BIN)/python:
	@$(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || { \
	  [ "$$(id -u)" = 0 ] || { echo "python3-venv is missing: as root run apt-get install -y python3-venv" >&2; exit 1; }; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null; }
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q --upgrade pip==26.3
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@

lint:
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

pytest:
	$(BIN)/pytest

# Benchmarks (never part of `make test`): bench/run.py builds the generated city of
# bench/make_city.py once (reused by later runs) and runs P1-P7 against references measured in
# the same run, on a cluster of its own (.gridhouse-bench, port 55440), printing one table
# (docs/benchmarks.md, "Benchmark suite"). Variables:
#   BENCH_BUILDINGS  the city's size (default 100000: a district; at most 20000000)
#   BENCH_SCALE      the size option itself: BENCH_SCALE=--city for the full city (1,000,000
#                    buildings, ~10M houses, ~15M residents, ~10k grids)
#   BENCH_RESURVEY   footprints of the P6 re-survey (default 100000; at most the city's size)
#   BENCH_ARGS       more options of `python -m bench.run` (--append-docs, --keep-cluster, ...)
BENCH_BUILDINGS ?= 100000
BENCH_SCALE ?= --buildings $(BENCH_BUILDINGS)
BENCH_RESURVEY ?= 100000
BENCH_ARGS ?=
BENCH_ENV := GRIDHOUSE_DATA_DIR=.gridhouse-bench GRIDHOUSE_DB_PORT=55440
bench: setup
	@{ command -v ogr2ogr && test -x /usr/bin/time; } >/dev/null || { \
	  [ "$$(id -u)" = 0 ] || { echo "ogr2ogr or /usr/bin/time is missing: as root run apt-get install -y gdal-bin time" >&2; exit 1; }; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends gdal-bin time >/dev/null; }
	$(BENCH_ENV) $(BIN)/python -m bench.run $(BENCH_SCALE) --resurvey $(BENCH_RESURVEY) $(BENCH_ARGS)

clean-cluster:
	-$(BIN)/gridhouse db stop
	rm -rf .gridhouse

clean-bench:
	-$(BENCH_ENV) $(BIN)/gridhouse db stop
	rm -rf .gridhouse-bench bench/out
