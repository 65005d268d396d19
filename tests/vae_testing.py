"""A tiny sentence VAE trained through the real entry point, shared by the VAE, style and twist
tests (computed once per test session, whichever module asks first)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

TINY_VAE_CONFIG: dict[str, Any] = {
    "data": {"passage_chars": 600, "validation_share": 0.1, "moderation_level": "teen"},
    "model": {
        "embed_dim": 32,
        "encoder_dim": 32,
        "decoder_dim": 48,
        "latent_dim": 8,
        "dropout": 0.0,
    },
    "objective": {"word_dropout": 0.3, "free_bits": 0.25, "kl_cycles": 2, "kl_cycle_steps": 100},
    "batch": {"batch_size": 32},
    "train": {
        "max_steps": 300,
        "lr": 0.01,
        "warmup_steps": 10,
        "eval_every": 150,
        "checkpoint_every": 150,
        "log_every": 20,
        "threads": 1,
        "precision": "fp32",
        "seed": 3,
    },
    "eval": {"validation_sentences": 200},
}

NO_DEFENCES = {"word_dropout": 0.0, "free_bits": 0.0, "kl_cycles": 0}

_RUNS: dict[str, Path] = {}


def tiny_vae_config(tokenizer: Path, **objective: Any) -> dict[str, Any]:
    config = copy.deepcopy(TINY_VAE_CONFIG)
    config["tokenizer"] = {"path": str(tokenizer)}
    config["objective"].update(objective)
    return config


def tiny_vae_run(
    name: str, out_root: Path, data_dir: Path, tokenizer: Path, **objective: Any
) -> Path:
    """Train (once per session and `name`) a tiny VAE with the tiny LSTM's tokenizer."""
    from generators.train.vae import train_vae

    if name not in _RUNS:
        out = out_root / name
        train_vae(tiny_vae_config(tokenizer, **objective), out, data_dir, resume=False)
        _RUNS[name] = out
    return _RUNS[name]
