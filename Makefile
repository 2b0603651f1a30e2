# The two commands of the README's quick start.
.PHONY: setup demo test test-all bench checkpoint
PY := .venv/bin/python

setup:
	bash scripts/setup.sh

demo: setup
	$(PY) main.py demo

test: setup
	$(PY) -m pytest -q

test-all: setup
	$(PY) -m pytest -q -m "slow or not slow"

bench: setup
	$(PY) -m benchmarks.run_all

checkpoint: setup
	bash scripts/reproduce_vla.sh
