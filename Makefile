# cityshield — the two commands a newcomer needs are `make serve` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: install system-deps serve test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,bench]'
	touch $(STAMP)

install: $(STAMP)

# PostgreSQL binaries for the test suite (initdb into a temp dir; no server is installed as a service).
system-deps:
	@if command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	else echo "PostgreSQL binaries missing: sudo apt-get install postgresql" >&2; exit 1; fi

## Run the hub on the embedded SQLite default with a demo network.
serve: install
	$(BIN)/cityshield init
	$(BIN)/cityshield policy load policies/network.yaml
	$(BIN)/cityshield demo --port $(PORT)
	$(BIN)/cityshield serve --host $(HOST) --port $(PORT)

## Lint and run the whole suite (SQLite and a real PostgreSQL).
test: install system-deps lint
	$(BIN)/python -m pytest -q -p no:cacheprovider

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

## Benchmark the hub as served (cityshield serve: API + worker) beside medallion and OpenTAXII,
## on SQLite then PostgreSQL (bench/README.md); `python -m bench.profile` for a py-spy profile.
bench: install system-deps
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) .cityshield
