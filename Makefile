# Two commands for a fresh machine: `make lab` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
# JupyterLab refuses to start as root unless told.
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: setup lab test bench notebooks exercises polyglot clean

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

# Unit and property tests, then every notebook under nbval: cells marked
# NBVAL_CHECK_OUTPUT must reproduce their committed output exactly.
test: setup polyglot
	$(PY) -m pytest
	SDE_PROGRESS=$$(mktemp -u) $(PY) -m pytest --nbval-lax --nbval-current-env --nbval-cell-timeout=600 \
	  notebooks exercises solutions

# Re-execute every notebook top to bottom in a fresh kernel and save its outputs; Phase 2's live runs
# are recorded (polyglot/recorded/) for machines without Go, Rust or Node.
notebooks: setup
	@touch .notebooks-started
	for nb in $$(find notebooks -name '*.ipynb' -not -path '*/.ipynb_checkpoints/*' | sort); do \
	  SDE_RECORD=1 $(VENV)/bin/jupyter nbconvert --to notebook --execute --inplace "$$nb" || exit 1; done
	@# With every orchestrator built, each recording still in use was just rewritten: drop the others.
	@if [ -x polyglot/go/bin/seed-orchestrator ] && [ -x polyglot/rust/target/release/seed-orchestrator ] \
	    && [ -f polyglot/typescript/dist/seed.js ]; then \
	  find polyglot/recorded -name '*.json.gz' ! -newer .notebooks-started -print -delete; fi
	@rm -f .notebooks-started

bench: setup
	$(PY) bench/bench_engine.py
	$(PY) bench/bench_dashboard.py
	$(PY) bench/bench_polyglot.py
	$(PY) bench/bench_native.py
	$(PY) bench/bench_messaging.py

# Exercises are generated from solutions (never edited by hand); each notebook then runs in a fresh
# kernel with a fresh progress file, as a learner would first open it.
exercises: setup
	$(PY) -m engine.checkpoint.generate
	for nb in solutions/*.ipynb exercises/*.ipynb; do \
	  SDE_PROGRESS=$$(mktemp -u) $(VENV)/bin/jupyter nbconvert --to notebook --execute --inplace "$$nb" || exit 1; done

# Phase 2's orchestrators in Go, Rust and TypeScript: each is built if its toolchain is installed
# (the course and its tests run without them; those tests then skip and say why). With
# SDE_REQUIRE_POLYGLOT=1, as CI sets, a build that cannot run is an error.
polyglot:
	@for lang in go rust typescript; do \
	  if [ ! -f polyglot/$$lang/build.sh ]; then echo "polyglot: no $$lang orchestrator yet"; \
	  elif bash polyglot/$$lang/build.sh; then :; \
	  elif [ "$${SDE_REQUIRE_POLYGLOT:-}" = 1 ]; then exit 1; \
	  else echo "polyglot: $$lang orchestrator not built (its tests will skip)"; fi; done

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
