# Talewright: one Makefile for setup, play, tests and training.
# `make play` and `make test` work on a fresh Debian machine with Python 3.11.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# The CPU build of PyTorch, pinned: a plain `torch` requirement pulls a multi-gigabyte CUDA build.
TORCH_VERSION ?= 2.13.0
TORCH_CPU_INDEX ?= https://download.pytorch.org/whl/cpu
DATA ?= ../shared/data

.PHONY: play test lint format bench train-default clean-venv

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet "torch==$(TORCH_VERSION)+cpu" \
	  || $(BIN)/pip install --quiet --index-url $(TORCH_CPU_INDEX) "torch==$(TORCH_VERSION)"
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

play: $(VENV)/.installed
	@if [ -t 0 ]; then $(BIN)/talewright play; \
	else $(BIN)/talewright play --db "$$(mktemp -d)/demo.db" --demo; fi

test: $(VENV)/.installed
	$(BIN)/python -m pytest -q

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(VENV)/.installed
	$(BIN)/python bench/generators.py
	$(BIN)/python bench/engine.py
	$(BIN)/python bench/storage_load.py
	$(BIN)/python bench/moderation.py
	$(BIN)/python bench/service.py --quick
	$(BIN)/python bench/discord_e2e.py --channels 20

train-default: $(VENV)/.installed
	$(BIN)/talewright train lstm --config configs/lstm_default.toml --data $(DATA)

clean-venv:
	rm -rf $(VENV)
