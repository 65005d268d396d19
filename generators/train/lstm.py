"""`talewright train lstm`: the LSTM language model on the story corpus.

Every hyperparameter comes from a TOML file (see configs/lstm_default.toml) that is copied into
the run folder and into each exported checkpoint's config.json.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from safetensors.torch import load_file
from torch import nn

from generators.checkpoint import load_checkpoint, save_checkpoint
from generators.evaluation.bits_per_char import score_texts
from generators.models.lstm import LSTMConfig, LSTMLanguageModel
from generators.text.corpus import Document
from generators.text.data import StreamBatcher
from generators.text.markup import DocumentEncoder
from generators.text.tokenizer import TextTokenizer
from generators.train.cards import lstm_card
from generators.train.prepare import PreparedCorpus, data_config, prepare_corpus
from generators.train.trainer import Callback, TrainConfig, Trainer, configure_threads


class LSTMTask:
    """Truncated BPTT over parallel token streams, carrying the recurrent state between windows."""

    monitor = "val_bpc"
    loss_unit = "nats/token"

    def __init__(
        self,
        corpus: PreparedCorpus,
        model_config: LSTMConfig,
        batch_size: int,
        seq_len: int,
        seed: int,
        reset_state_prob: float,
        validation_docs: int,
        config_snapshot: dict[str, Any],
        genre_weights: dict[str, float] | None = None,
    ):
        self.corpus = corpus
        self.model_config = model_config
        self.tokenizer = corpus.tokenizer
        self.batcher = StreamBatcher(
            corpus.train,
            DocumentEncoder(corpus.tokenizer),
            batch_size,
            seq_len,
            seed,
            genre_weights,
        )
        self.reset_state_prob = reset_state_prob
        self.rng = random.Random(seed)
        self.epoch = 0
        self.window = 0
        self.carried: tuple[torch.Tensor, torch.Tensor] | None = None
        self.validation = _validation_sample(corpus.validation, validation_docs, seed)
        self.config_snapshot = config_snapshot

    def batches(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        while True:
            for inputs, targets in self.batcher.windows(self.epoch, self.window):
                self.window += 1
                yield inputs, targets
            self.epoch += 1
            self.window = 0
            self.carried = None

    def loss(
        self, model: LSTMLanguageModel, batch, step: int
    ) -> tuple[torch.Tensor, dict[str, float]]:
        device = next(model.parameters()).device
        inputs, targets = (t.to(device) for t in batch)
        state = self.carried
        if state is not None and self.rng.random() < self.reset_state_prob:
            state = None
        logits, new_state = model.run(inputs, state)
        self.carried = (new_state[0].detach().float(), new_state[1].detach().float())
        loss = F.cross_entropy(logits.float().reshape(-1, logits.size(-1)), targets.reshape(-1))
        return loss, {"tokens": inputs.numel(), "epoch": self.epoch}

    def validate(self, model: LSTMLanguageModel) -> dict[str, float]:
        metrics = evaluate_parts(model, self.tokenizer, self.validation)
        model.train()
        return metrics

    def state(self) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        tensors = {}
        if self.carried is not None:
            tensors = {"h": self.carried[0], "c": self.carried[1]}
        values = {"epoch": self.epoch, "window": self.window, "rng": _listify(self.rng.getstate())}
        return values, tensors

    def load_state(self, values: dict[str, Any], tensors: dict[str, torch.Tensor]) -> None:
        self.epoch = values["epoch"]
        self.window = values["window"]
        self.rng.setstate(_tuplify(values["rng"]))
        self.carried = (tensors["h"], tensors["c"]) if "h" in tensors else None

    def export(self, model: LSTMLanguageModel, folder: Path, metrics: dict[str, Any]) -> None:
        export_language_model(
            folder, model, "lstm", self.model_config.to_dict(), self, metrics, lstm_card
        )


def model_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def export_language_model(
    folder: Path,
    model: nn.Module,
    family: str,
    model_config: dict[str, Any],
    task: LSTMTask | Any,
    metrics: dict[str, Any],
    card: Callable[..., str],
) -> None:
    """A language-model task's best weights as a checkpoint folder with its card: the task
    gives its corpus, tokenizer and config snapshot; `card` writes the family's card."""
    text = card(folder.name, task.corpus.report, task.config_snapshot, metrics, model_params(model))
    save_checkpoint(
        folder,
        model,
        family=family,
        model_config=model_config,
        tokenizer=task.tokenizer,
        card=text,
        info={"training": task.config_snapshot, "validation": metrics},
    )


def _validation_sample(docs: list[Document], per_part: int, seed: int) -> list[Document]:
    """A fixed sample of up to `per_part` children and `per_part` book documents (0: all)."""
    children = [d for d in docs if d.genre == "children"]
    books = [d for d in docs if d.genre != "children"]
    if per_part <= 0:
        return children + books
    rng = random.Random(seed)
    return rng.sample(children, min(per_part, len(children))) + rng.sample(
        books, min(per_part, len(books))
    )


def evaluate_parts(
    model: nn.Module, tokenizer: TextTokenizer, docs: list[Document]
) -> dict[str, float]:
    """Bits per character on the TinyStories part and the Gutenberg part, and their mean."""
    autocast = next(model.parameters()).device.type == "cuda"
    metrics: dict[str, float] = {}
    parts = {
        "children": [d for d in docs if d.genre == "children"],
        "books": [d for d in docs if d.genre != "children"],
    }
    for name, part in parts.items():
        if part:
            score = score_texts(
                model, tokenizer, [d.text for d in part], [d.genre for d in part], autocast=autocast
            )
            metrics[f"val_bpc_{name}"] = score.bits_per_char
    metrics["val_bpc"] = sum(metrics.values()) / max(len(metrics), 1)
    return metrics


def train_lstm(
    config: dict[str, Any],
    out_dir: Path,
    data_dir: Path | None,
    resume: bool,
    callbacks: list[Callback] | None = None,
) -> Path:
    """Run (or resume) a training run; return the folder of the best checkpoint."""
    data_cfg = data_config(config, data_dir)
    init = config.get("init", {})
    initial_weights = None
    if init.get("checkpoint"):
        initial_weights = _initial_weights(Path(init["checkpoint"]), out_dir)
    corpus = prepare_corpus(data_cfg, config.get("tokenizer", {}), out_dir)
    model_config = LSTMConfig(vocab_size=corpus.tokenizer.vocab_size, **config.get("model", {}))
    batch_cfg = config.get("batch", {})
    train_cfg = TrainConfig.from_dict(config.get("train", {}))
    configure_threads(train_cfg)
    torch.manual_seed(train_cfg.seed)
    model = LSTMLanguageModel(model_config)
    if initial_weights is not None:
        model.load_state_dict(initial_weights)
    task = LSTMTask(
        corpus,
        model_config,
        batch_size=batch_cfg.get("batch_size", 32),
        seq_len=batch_cfg.get("seq_len", 128),
        seed=train_cfg.seed,
        reset_state_prob=batch_cfg.get("reset_state_prob", 0.02),
        validation_docs=config.get("eval", {}).get("validation_docs", 200),
        config_snapshot=config,
        genre_weights=batch_cfg.get("genre_weights"),
    )
    trainer = Trainer(model, task, train_cfg, out_dir, callbacks, run_info={"config": config})
    trainer.fit(resume=resume)
    return trainer.best_dir


def _initial_weights(source: Path, out_dir: Path) -> dict[str, torch.Tensor]:
    """Weights to start from (fine-tuning): a checkpoint folder, or a run's `last/` training
    state (full float32 precision). The source's tokenizer becomes the run's tokenizer."""
    out_dir.mkdir(parents=True, exist_ok=True)
    tokenizer = source / "tokenizer.json"
    if not tokenizer.exists():
        tokenizer = source.parent / "tokenizer.json"
    target = out_dir / "tokenizer.json"
    if not target.exists():
        target.write_bytes(tokenizer.read_bytes())
    if (source / "trainer.json").exists():
        return load_file(str(source / "model.safetensors"))
    return {k: v.float() for k, v in load_checkpoint(source).model.state_dict().items()}


def _listify(value: Any) -> Any:
    return [_listify(v) for v in value] if isinstance(value, tuple | list) else value


def _tuplify(value: Any) -> Any:
    return tuple(_tuplify(v) for v in value) if isinstance(value, list) else value
