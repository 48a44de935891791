# Two commands do all the set-up on a fresh machine:
#   make demo   - install everything into .venv and run a demo agent on local files
#   make test   - install everything (including the real test servers' system packages) and run every test
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PLUGINS := $(sort $(wildcard plugins/flume-*))

.PHONY: setup system-deps demo test lint bench dist clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

# PYTHONWARNINGS: setuptools warns on every editable install of a flat-layout package that a
# same-named folder in the working directory could shadow it; that folder is the package itself.
$(VENV)/.installed: $(VENV)/bin/python pyproject.toml testkit/pyproject.toml $(wildcard plugins/flume-*/pyproject.toml) requirements-test.txt
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-test.txt
	PYTHONWARNINGS="ignore:Editable installation" $(PY) -m pip install -q -e . -e testkit $(addprefix -e ,$(PLUGINS))
	touch $@

setup: $(VENV)/.installed

system-deps:
	bash scripts/install-system-deps.sh

demo: setup
	$(PY) scripts/demo.py

test: setup system-deps
	$(PY) -m pytest -q

# ruff over everything, mypy --strict over the kernel, the testkit and every plugin's package
TYPED := flume_sdk testkit/flume_testkit $(filter-out %.egg-info,$(wildcard plugins/flume-*/flume_*))

lint: setup
	$(VENV)/bin/ruff check flume_sdk testkit plugins tests
	$(VENV)/bin/mypy $(TYPED)

# Wheels of every distribution (kernel, testkit, plugins) in dist/, for a plugin kept outside
# this repository: pip install dist/flume_sdk-*.whl dist/flume_testkit-*.whl
dist: setup
	rm -rf dist
	$(PY) -m pip wheel -q --no-deps -w dist . ./testkit $(PLUGINS)

bench: setup
	for b in bench/bench_*.py; do $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) var dist
