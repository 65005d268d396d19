"""`talewright train transformer`: the Hugging Face (Llama) transformer on the story corpus.

The same corpus, tokenizer, control-token markup, trainer and validation as the LSTM, so the two
compare on equal terms. Windows of `seq_len` tokens are cut from the same seeded streams; a
transformer carries no state between windows, so each window is read from a fresh context.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
from torch import nn

from generators.models.transformer import TransformerConfig, TransformerLanguageModel
from generators.text.data import StreamBatcher
from generators.text.markup import DocumentEncoder
from generators.train.cards import transformer_card
from generators.train.lstm import _validation_sample, evaluate_parts, export_language_model
from generators.train.prepare import PreparedCorpus, data_config, prepare_corpus
from generators.train.trainer import Callback, TrainConfig, Trainer, configure_threads


class TransformerTask:
    """Next-token loss over fixed windows of the seeded token streams."""

    monitor = "val_bpc"
    loss_unit = "nats/token"

    def __init__(
        self,
        corpus: PreparedCorpus,
        model_config: TransformerConfig,
        batch_size: int,
        seq_len: int,
        seed: int,
        validation_docs: int,
        config_snapshot: dict[str, Any],
        genre_weights: dict[str, float] | None = None,
        encode_workers: int = 0,
    ):
        if seq_len > model_config.max_positions:
            raise ValueError(
                f"seq_len {seq_len} is longer than the model's max_positions "
                f"{model_config.max_positions}"
            )
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
            workers=encode_workers,
        )
        self.epoch = 0
        self.window = 0
        self.validation = _validation_sample(corpus.validation, validation_docs, seed)
        self.config_snapshot = config_snapshot

    def batches(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        while True:
            for inputs, targets in self.batcher.windows(self.epoch, self.window):
                self.window += 1
                yield inputs, targets
            self.epoch += 1
            self.window = 0

    def loss(self, model: nn.Module, batch, step: int) -> tuple[torch.Tensor, dict[str, float]]:
        device = next(model.parameters()).device
        inputs, targets = (t.to(device) for t in batch)
        _, loss = model(inputs, targets)
        assert loss is not None
        return loss, {"tokens": inputs.numel(), "epoch": self.epoch}

    def validate(self, model: nn.Module) -> dict[str, float]:
        metrics = evaluate_parts(model, self.tokenizer, self.validation)
        model.train()
        return metrics

    def state(self) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        return {"epoch": self.epoch, "window": self.window}, {}

    def load_state(self, values: dict[str, Any], tensors: dict[str, torch.Tensor]) -> None:
        self.epoch = values["epoch"]
        self.window = values["window"]

    def export(self, model: nn.Module, folder: Path, metrics: dict[str, Any]) -> None:
        export_language_model(
            folder,
            model,
            "transformer",
            self.model_config.to_dict(),
            self,
            metrics,
            transformer_card,
        )


def train_transformer(
    config: dict[str, Any],
    out_dir: Path,
    data_dir: Path | None,
    resume: bool,
    callbacks: list[Callback] | None = None,
) -> Path:
    """Run (or resume) a training run; return the folder of the best checkpoint."""
    data_cfg = data_config(config, data_dir)
    tokenizer_source = config.get("init", {}).get("tokenizer")
    if tokenizer_source:
        _copy_tokenizer(Path(tokenizer_source), out_dir)
    corpus = prepare_corpus(data_cfg, config.get("tokenizer", {}), out_dir)
    model_config = TransformerConfig(
        vocab_size=corpus.tokenizer.vocab_size, **config.get("model", {})
    )
    batch_cfg = config.get("batch", {})
    train_cfg = TrainConfig.from_dict(config.get("train", {}))
    configure_threads(train_cfg)
    torch.manual_seed(train_cfg.seed)
    random.seed(train_cfg.seed)
    model = TransformerLanguageModel(model_config)
    task = TransformerTask(
        corpus,
        model_config,
        batch_size=batch_cfg.get("batch_size", 16),
        seq_len=batch_cfg.get("seq_len", 256),
        seed=train_cfg.seed,
        validation_docs=config.get("eval", {}).get("validation_docs", 200),
        config_snapshot=config,
        genre_weights=batch_cfg.get("genre_weights"),
        encode_workers=batch_cfg.get("encode_workers", 0),
    )
    trainer = Trainer(model, task, train_cfg, out_dir, callbacks, run_info={"config": config})
    try:
        trainer.fit(resume=resume)
    finally:
        task.batcher.close()
    return trainer.best_dir


def _copy_tokenizer(source: Path, out_dir: Path) -> None:
    """Use an existing tokenizer (a checkpoint folder or a tokenizer.json), so the model shares
    the LSTM's vocabulary and the VAE, SeqGAN and reranking tools keep working beside it."""
    path = source / "tokenizer.json" if source.is_dir() else source
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / "tokenizer.json"
    if not target.exists():
        target.write_bytes(path.read_bytes())
