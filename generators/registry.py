"""Loaded checkpoints by id, with what sampling needs precomputed for each."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from generators.checkpoint import LoadedCheckpoint, load_checkpoint
from generators.errors import UnknownModel
from generators.paths import DEFAULT_CHECKPOINT
from generators.sampling import TokenTables
from generators.schemas import ModelInfo

__all__ = ["DEFAULT_CHECKPOINT", "ModelRegistry", "ServedModel"]


@dataclass
class ServedModel:
    checkpoint: LoadedCheckpoint
    tables: TokenTables

    @property
    def id(self) -> str:
        return self.checkpoint.model_id

    @property
    def model(self):
        return self.checkpoint.model

    @property
    def tokenizer(self):
        return self.checkpoint.tokenizer


class ModelRegistry:
    def __init__(self, device: str | torch.device = "cpu"):
        self.device = torch.device(device)
        self.models: dict[str, ServedModel] = {}
        self.default_id: str | None = None

    def load(
        self, path: Path | str, model_id: str | None = None, default: bool = False
    ) -> ServedModel:
        checkpoint = load_checkpoint(Path(path), device=self.device)
        if checkpoint.family != "lstm":
            raise ValueError(f"{path} is a {checkpoint.family} checkpoint, not a language model")
        if model_id:
            checkpoint.config["id"] = model_id
        served = ServedModel(checkpoint, TokenTables(checkpoint.tokenizer, self.device))
        self.models[served.id] = served
        if default or self.default_id is None:
            self.default_id = served.id
        return served

    def get(self, model_id: str | None) -> ServedModel:
        key = model_id or self.default_id
        if key is None or key not in self.models:
            known = ", ".join(sorted(self.models)) or "none"
            raise UnknownModel(f"unknown model {model_id!r}; loaded: {known}")
        return self.models[key]

    def info(self) -> list[ModelInfo]:
        return [
            ModelInfo(
                id=m.id,
                family=m.checkpoint.family,
                parameters=int(m.checkpoint.config.get("parameters", 0)),
                vocab_size=m.tokenizer.vocab_size,
                default=m.id == self.default_id,
                card=m.checkpoint.card[:2000],
            )
            for m in self.models.values()
        ]
