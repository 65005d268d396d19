"""The training configs in configs/: each one a run could start from, and the equal-time LSTM
still the bundled LSTM's shape on the transformer's budget (the comparison in the cards)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from generators.models.lstm import LSTMConfig
from generators.train.trainer import TrainConfig

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def read(name: str) -> dict:
    return tomllib.loads((CONFIGS / name).read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", sorted(CONFIGS.glob("*.toml")), ids=lambda p: p.name)
def test_every_config_has_a_valid_trainer_table(path: Path) -> None:
    """The table the trainer reads: [train], or [pretrain] (less its batch size) for SeqGAN."""
    config = tomllib.loads(path.read_text(encoding="utf-8"))
    if "train" in config:
        table = dict(config["train"])
    else:
        table = dict(config["pretrain"])
        table.pop("batch_size", None)
    train = TrainConfig.from_dict(table)
    assert train.max_steps > 0 and train.lr > 0


def test_equal_time_lstm_is_the_default_shape_on_the_transformer_budget() -> None:
    lstm, equal, transformer = (
        read("lstm_default.toml"),
        read("lstm_equal_time.toml"),
        read("transformer_default.toml"),
    )
    assert equal["model"] == lstm["model"]
    LSTMConfig(vocab_size=8192, **equal["model"])
    assert equal["data"] == transformer["data"]
    assert equal["batch"]["genre_weights"] == transformer["batch"]["genre_weights"]
    assert equal["eval"] == transformer["eval"]
    for key in ("threads", "precision", "seed"):
        assert equal["train"][key] == transformer["train"][key], key
    assert equal["train"]["time_limit_minutes"] == 91
    tokens_per_step = equal["batch"]["batch_size"] * equal["batch"]["seq_len"]
    assert tokens_per_step == transformer["batch"]["batch_size"] * transformer["batch"]["seq_len"]


@pytest.mark.parametrize("phase", ["transformer_continue.toml", "transformer_phase3.toml"])
def test_later_transformer_phases_resume_the_first_phases_model(phase: str) -> None:
    """A later phase resumes the first phase's run folder: its model, tokenizer, data and
    validation must be the first phase's, and its schedule must run past the step the run
    folder is at (max_steps above it), or the resume would stop at once or not load."""
    first, later = read("transformer_default.toml"), read(phase)
    for table in ("model", "tokenizer", "data", "init", "eval"):
        assert later[table] == first[table], table
    assert later["train"]["max_steps"] > first["train"]["max_steps"]
    assert later["train"]["time_limit_minutes"] > 0
