# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# The optional PaddleOCR backend gets a virtual environment of its own: paddleocr pulls in
# opencv-contrib-python and an older numpy, which must not leak into the main environment.
PADDLE_VENV  ?= .venv-paddle
PADDLE_STAMP := $(PADDLE_VENV)/.installed

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

$(PADDLE_STAMP): pyproject.toml
	$(PYTHON) -m venv $(PADDLE_VENV)
	$(PADDLE_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(PADDLE_VENV)/bin/python -m pip install --quiet -e '.[dev,paddle]'
	touch $(PADDLE_STAMP)

demo: $(STAMP)
	$(VENV)/bin/homework demo --out demo-out

test: $(STAMP) $(PADDLE_STAMP) lint
	$(PADDLE_VENV)/bin/python -m pytest -q -m paddle
	$(PY) -m pytest -q -m "not paddle"

lint: $(STAMP)
	$(VENV)/bin/ruff check homework scanning recommender api tests benchmarks
	$(VENV)/bin/mypy homework scanning recommender api

bench: $(STAMP)
	$(PY) benchmarks/scan.py
	$(PY) benchmarks/mastery.py
	$(PY) benchmarks/bank.py
	$(PY) benchmarks/policy.py

clean:
	rm -rf $(VENV) $(PADDLE_VENV) demo-out .pytest_cache .mypy_cache
