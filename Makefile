# Two commands for a fresh machine: `make lab` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
# JupyterLab refuses to start as root unless told.
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: setup lab test bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed; found " + sys.version.split()[0])'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

# Opens the course's first notebook once it exists, else the repository.
START := $(wildcard notebooks/00_start_here.ipynb)

lab: setup
	$(VENV)/bin/jupyter lab $(ROOT_FLAG) $(START)

test: setup
	$(PY) -m pytest

bench: setup
	$(PY) bench/bench_engine.py
	$(PY) bench/bench_dashboard.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
