# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
# Both install the locked versions in requirements/ (exact, with hashes); `make lock` refreshes them.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# The optional PaddleOCR backend gets a virtual environment of its own: paddleocr pulls in
# opencv-contrib-python and an older numpy, which must not leak into the main environment.
PADDLE_VENV  ?= .venv-paddle
PADDLE_STAMP := $(PADDLE_VENV)/.installed
LATEST_VENV  ?= .venv-latest
LOCK_FLAGS   := --universal --python-version 3.11 --generate-hashes --quiet $(if $(UPGRADE),--upgrade)

.PHONY: demo test test-latest lint bench lock clean chromium

# A fresh venv from a lock: the installer and build backend (tools.txt), then the lock, then this
# project itself, editable and without dependencies. $(1): the venv folder; $(2): the lock file.
define locked_venv
	rm -rf $(1)
	$(PYTHON) -m venv $(1)
	$(1)/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps \
		-r requirements/tools.txt
	$(1)/bin/uv pip install --quiet --python $(1)/bin/python --require-hashes -r $(2)
	$(1)/bin/uv pip install --quiet --python $(1)/bin/python --no-deps --no-build-isolation -e .
	touch $(1)/.installed
endef

$(STAMP): pyproject.toml requirements/tools.txt requirements/dev.txt
	$(call locked_venv,$(VENV),requirements/dev.txt)

$(PADDLE_STAMP): pyproject.toml requirements/tools.txt requirements/paddle.txt
	$(call locked_venv,$(PADDLE_VENV),requirements/paddle.txt)

demo: $(STAMP)
	$(VENV)/bin/homework demo --out demo-out

# The storage and API tests run on SQLite and on PostgreSQL, the distributed tests on Celery workers with
# Redis: tests/postgres_server.py installs Debian's postgresql and redis-server if they are missing,
# starts both on 127.0.0.1 in temporary folders, sets HOMEWORK_TEST_POSTGRES_URL and HOMEWORK_TEST_REDIS_URL
# for pytest, and stops them afterwards even when the tests fail.
test: $(STAMP) $(PADDLE_STAMP) lint chromium
	$(PADDLE_VENV)/bin/python -m pytest -q -m paddle
	$(PY) tests/postgres_server.py run -- $(PY) -m pytest -q -m "not paddle"

# The report tests drive Debian's chromium through Playwright (executable_path; no browser download).
chromium:
	command -v chromium >/dev/null || { export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium; }

# The suite against the newest release of every dependency that pyproject.toml allows (no lock):
# an early warning of what the next `make lock` will bring.
test-latest: chromium
	rm -rf $(LATEST_VENV)
	$(PYTHON) -m venv $(LATEST_VENV)
	$(LATEST_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps \
		-r requirements/tools.txt
	$(LATEST_VENV)/bin/uv pip install --quiet --python $(LATEST_VENV)/bin/python --upgrade --refresh -e '.[dev]'
	$(LATEST_VENV)/bin/uv pip list --python $(LATEST_VENV)/bin/python
	$(LATEST_VENV)/bin/python tests/postgres_server.py run -- $(LATEST_VENV)/bin/python -m pytest -q -m "not paddle"

# `make lock` resolves pyproject.toml again, keeping every pin that still fits (after adding a
# dependency); `make lock UPGRADE=1` moves every pin to the newest release allowed.
lock: $(STAMP)
	$(VENV)/bin/uv pip compile $(LOCK_FLAGS) requirements/tools.in -o requirements/tools.txt
	$(VENV)/bin/uv pip compile $(LOCK_FLAGS) pyproject.toml --extra dev -o requirements/dev.txt
	$(VENV)/bin/uv pip compile $(LOCK_FLAGS) pyproject.toml --extra dev --extra paddle \
		-o requirements/paddle.txt

lint: $(STAMP)
	$(VENV)/bin/ruff check homework scanning recommender api tests benchmarks
	$(VENV)/bin/mypy homework scanning recommender api

bench: $(STAMP)
	$(PY) benchmarks/scan.py
	$(PY) benchmarks/mastery.py
	$(PY) benchmarks/bank.py
	$(PY) benchmarks/policy.py
	$(PY) benchmarks/foreign_sheets.py

clean:
	rm -rf $(VENV) $(PADDLE_VENV) $(LATEST_VENV) demo-out .pytest_cache .mypy_cache
