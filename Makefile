# denoisebench: `make run` (set up + whole pipeline), `make test` (set up + checks + tests).
PYTHON ?= python3
VENV   := .venv
BIN    := $(abspath $(VENV))/bin
STAMP  := $(VENV)/.installed
CORES  ?= all
# pip extras: `bm3d` is the BM3D image baseline, free for non-commercial use only (README);
# `make setup EXTRAS=dev` leaves it out (its rows are then absent from the report).
EXTRAS ?= dev,bm3d

# Snakemake and DVC call the `denoisebench` console script of the virtual environment.
export PATH := $(BIN):$(PATH)
export TF_CPP_MIN_LOG_LEVEL ?= 3

.PHONY: setup run test lint dvc-yaml sync clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[$(EXTRAS)]'
	bash scripts/install-system-deps.sh
	touch $@

run: setup
	snakemake --cores $(CORES)
	@echo "report: $(abspath reports/index.html)"

lint: setup
	ruff check .
	snakemake --lint

test: lint
	pytest

dvc-yaml: setup
	denoisebench export-dvc

sync: setup
	denoisebench sync

clean:
	rm -rf data models metrics/*.json metrics/*/ reports logs .snakemake .denoisebench
