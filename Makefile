# Talewright: one Makefile for setup, play, tests and training.
# `make play` and `make test` work on a fresh Debian machine with Python 3.11.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# The CPU build of PyTorch, pinned: a plain `torch` requirement pulls a multi-gigabyte CUDA build.
TORCH_VERSION ?= 2.13.0
TORCH_CPU_INDEX ?= https://download.pytorch.org/whl/cpu
DATA ?= ../shared/data

.PHONY: retrieval-index play test lint format bench train-default train-transformer train-lstm gpu-bundle train-gpu clean-venv

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet "torch==$(TORCH_VERSION)+cpu" \
	  || $(BIN)/pip install --quiet --index-url $(TORCH_CPU_INDEX) "torch==$(TORCH_VERSION)"
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

# The passage index (generators.retrieval): built once from the corpus into the user's cache
# folder (about a minute, 70 MB); without the corpus the turns come from the model alone.
retrieval-index: $(VENV)/.installed
	@if [ -d "$(DATA)" ]; then $(BIN)/talewright data index "$(DATA)" --if-missing; \
	else echo "no corpus at $(DATA): no passage index is built (one built before is still used; with none, turns come from the model alone)"; fi

play: $(VENV)/.installed retrieval-index
	@if [ -t 0 ]; then $(BIN)/talewright play; \
	else $(BIN)/talewright play --db "$$(mktemp -d)/demo.db" --demo; fi

test: $(VENV)/.installed
	$(BIN)/python -m pytest -q

# pyright ([tool.pyright] in pyproject.toml: basic mode over bot, storage and generators) comes
# with its JavaScript in the wheel and runs on the machine's node (without one, it fetches one).
lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pyright

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
	$(BIN)/python bench/concurrency.py

# The default model is the transformer: its three phases, each later one resuming the first's run folder.
train-default: train-transformer

train-transformer: $(VENV)/.installed
	$(BIN)/talewright train transformer --config configs/transformer_default.toml --data $(DATA) \
		--out runs/transformer-default
	$(BIN)/talewright train transformer --config configs/transformer_continue.toml --data $(DATA) \
		--out runs/transformer-default
	$(BIN)/talewright train transformer --config configs/transformer_phase3.toml --data $(DATA) \
		--out runs/transformer-default

train-lstm: $(VENV)/.installed
	$(BIN)/talewright train lstm --config configs/lstm_default.toml --data $(DATA)

# The GPU recipe, in two steps. Here: prepare the corpus and the wheels the GPU image lacks into
# carry/ (git-ignored, about 31 MB: the documents gzipped, configs/gpu_wheels.txt's wheels).
# There, with the image's own python3 (torch, transformers), carrying carry/: `make train-gpu
# OUT=/some/folder` trains the bundled transformer's shape (2,000 steps, at most 3 minutes) and
# writes OUT/checkpoint, OUT/summary.json and the loss curve.
GPU_PYTHON ?= python3
OUT ?= runs/transformer-gpu
gpu-bundle: $(VENV)/.installed
	$(BIN)/python -m generators.train.gpu_recipe bundle --data $(DATA) --to carry/gpu
	$(BIN)/python -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 \
	  --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 \
	  --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
	  -d carry/wheels -r configs/gpu_wheels.txt

train-gpu:
	$(GPU_PYTHON) -m pip install --quiet --no-index --no-deps --target /tmp/talewright-site \
	  carry/wheels/*.whl
	PYTHONPATH=/tmp/talewright-site:. $(GPU_PYTHON) -m generators.train.gpu_recipe train \
	  --bundle carry/gpu --out $(OUT)

clean-venv:
	rm -rf $(VENV)
