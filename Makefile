# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/homework demo --out demo-out

test: $(STAMP)
	$(PY) -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check homework scanning recommender api tests benchmarks
	$(VENV)/bin/mypy homework scanning recommender api

bench: $(STAMP)
	$(PY) benchmarks/scan.py
	$(PY) benchmarks/mastery.py
	$(PY) benchmarks/bank.py

clean:
	rm -rf $(VENV) demo-out .pytest_cache .mypy_cache
