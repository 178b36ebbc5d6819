# Two commands do all set-up on a fresh machine:  `make run` (dashboard + worker) and `make test` (tests).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test typecheck worker snapshot lint bench browser cgt podman image clean

$(STAMP): requirements.txt requirements-dev.txt constraints.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt -c constraints.txt
	$(PY) -m pip install -q --no-deps -e .
	touch $(STAMP)

run: $(STAMP) cgt
	$(PY) -m papishares run

worker: $(STAMP)
	$(PY) -m papishares worker

snapshot: $(STAMP)
	$(PY) -m papishares snapshot --json

browser:
	@scripts/ensure-chromium

# cgt-calc (UK capital gains) in its own Python 3.12+ virtualenv; skipped with a note when there is none
cgt:
	@scripts/ensure-cgt-calc

# podman, for the tests that build the image and run it (tests/deploy/test_image.py)
podman:
	@scripts/ensure-podman

# the image, built with podman where there is no Docker (the official bases, or stand-ins from Debian's packages)
image: $(STAMP) podman
	$(PY) -m pytest -q tests/deploy/test_image.py

lint: $(STAMP)
	$(PY) -m ruff check .

# mypy over papishares/ (config in pyproject.toml: the pure rooms strictly, the rest checked)
typecheck: $(STAMP)
	$(PY) -m mypy

test: $(STAMP) browser cgt podman
	$(PY) -m ruff check .
	$(PY) -m mypy
	PY=$(PY) scripts/run-tests

bench: $(STAMP)
	@for b in bench/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) .venv-cgt .pytest_cache .ruff_cache .mypy_cache
