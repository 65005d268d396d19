"""A tiny transformer checkpoint for the serving tests, trained in seconds through the real
entry point on the tiny corpus, with the tiny LSTM's tokenizer (as the bundled transformer
shares the bundled LSTM's): the VAE and SeqGAN tools built for that tokenizer read it too.

Its context (`max_positions`) is short, so the tests also meet the prompt budget being cut to
fit it."""

from __future__ import annotations

import copy
from pathlib import Path

from tinydata import TINY_CONFIG

TINY_TRANSFORMER_POSITIONS = 160

TINY_TRANSFORMER_CONFIG = {
    **copy.deepcopy(TINY_CONFIG),
    "model": {
        "hidden_size": 48,
        "num_layers": 2,
        "num_heads": 2,
        "num_kv_heads": 2,
        "intermediate_size": 96,
        "max_positions": TINY_TRANSFORMER_POSITIONS,
    },
    "batch": {"batch_size": 8, "seq_len": 64},
}
TINY_TRANSFORMER_CONFIG["train"] = {
    **TINY_CONFIG["train"],
    "max_steps": 300,
    "eval_every": 300,
    "checkpoint_every": 300,
    "warmup_steps": 20,
}


def train_tiny_transformer(lstm_checkpoint: Path, corpus: Path, out: Path) -> Path:
    """Train the tiny transformer reading `lstm_checkpoint`'s tokenizer; return its `best`."""
    from generators.train.transformer import train_transformer

    config = copy.deepcopy(TINY_TRANSFORMER_CONFIG)
    config["init"] = {"tokenizer": str(lstm_checkpoint)}
    return train_transformer(config, out, corpus, resume=False)
