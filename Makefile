# Every target bootstraps what it needs: a .venv with the pinned dependencies of requirements-dev.lock.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8080

.PHONY: install run test test-fast lint typecheck check bench bench-quick package lock clean mutation

$(STAMP): requirements-dev.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $(STAMP)

install: $(STAMP)  ## the .venv; then `source .venv/bin/activate` puts manga-assist on the PATH

run: $(STAMP)  ## serve the chatbot on http://$(HOST):$(PORT)/ (memory store, fake model)
	$(BIN)/manga-assist serve --host $(HOST) --port $(PORT)

test: $(STAMP)  ## the whole suite; then the acceptance scenarios again, on DynamoDB (moto)
	$(BIN)/python -m pytest
	$(BIN)/python -m pytest -p tests.on_dynamodb features

test-fast: $(STAMP)  ## unit, handler, contract and layering tests and the scenarios in memory: seconds, not minutes
	$(BIN)/python -m pytest -q tests/unit tests/handlers tests/contract tests/test_layers.py features

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

check: lint typecheck test

bench: $(STAMP)  ## every benchmark of BENCHMARKS.md, in one run (minutes; builds .venv-bench-runtime, needs PyPI)
	$(BIN)/python -m bench

bench-quick: $(STAMP)  ## one or two rounds of every benchmark: each still runs and reports its figures
	$(BIN)/python -m bench --quick

mutation: $(STAMP)  ## mutation score of the core (mutmut) against the fast tests; report: artifacts/mutation.md
	rm -rf mutants
	mkdir -p artifacts
	$(BIN)/mutmut run --max-children 2 > artifacts/mutmut.log 2>&1 || (tail -40 artifacts/mutmut.log; exit 1)
	$(BIN)/python -m tests.mutation.report --out artifacts/mutation.md

package: $(STAMP)  ## the Lambda artifact: build/lambda/ and build/manga-assist-lambda.zip (needs PyPI)
	$(BIN)/python -m deploy.package

lock:  ## re-pin dependencies after editing pyproject.toml (needs PyPI)
	$(PYTHON) -m venv .venv-lock && .venv-lock/bin/pip install --quiet uv
	# What Lambda runs (Python 3.12 on arm64, as template.yaml says); deploy/package.py installs it.
	.venv-lock/bin/uv pip compile pyproject.toml --python-version 3.12 --python-platform aarch64-manylinux_2_17 \
	  --generate-hashes -o requirements.lock
	# Development on any machine from Python 3.11 on, with the runtime's very pins.
	.venv-lock/bin/uv pip compile pyproject.toml --extra dev --universal --python-version 3.11 \
	  --generate-hashes -c requirements.lock -o requirements-dev.lock

clean:
	rm -rf $(VENV) .venv-* build dist artifacts mutants .pytest_cache .mypy_cache .ruff_cache
