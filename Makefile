# denoisebench: `make run` (set up + whole pipeline), `make test` (set up + checks + tests).
PYTHON ?= python3
VENV   := .venv
BIN    := $(abspath $(VENV))/bin
CORES  ?= all
# pip extras: `bm3d` is the BM3D image baseline, free for non-commercial use only (README);
# `dev` adds the test tools (pytest, ruff, jax[cpu] for the backend tests), which `make run`
# does not need. Leave BM3D out with `make run RUN_EXTRAS=none` / `make test TEST_EXTRAS=dev`
# (its rows are then absent from the report).
RUN_EXTRAS  ?= bm3d
TEST_EXTRAS ?= dev,bm3d
EXTRAS      ?= $(TEST_EXTRAS)

# Snakemake and DVC call the `denoisebench` console script of the virtual environment.
export PATH := $(BIN):$(PATH)
export TF_CPP_MIN_LOG_LEVEL ?= 3

.PHONY: setup run test lint dvc-yaml sync clean

setup: $(VENV)/.installed-$(EXTRAS)

# one stamp per set of extras: `make test` after `make run` only adds the test tools
$(VENV)/.installed-%: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[$*]'
	bash scripts/install-system-deps.sh
	touch $@

run: $(VENV)/.installed-$(RUN_EXTRAS)
	snakemake --cores $(CORES)
	@echo "report: $(abspath reports/index.html)"

lint: $(VENV)/.installed-$(TEST_EXTRAS)
	ruff check .
	snakemake --lint

test: lint
	pytest

dvc-yaml: $(VENV)/.installed-$(RUN_EXTRAS)
	denoisebench export-dvc

sync: $(VENV)/.installed-$(RUN_EXTRAS)
	denoisebench sync

clean:
	rm -rf data models metrics/*.json metrics/*/ reports logs .snakemake .denoisebench
