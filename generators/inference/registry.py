"""Loaded checkpoints by id, with what sampling needs precomputed for each."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from generators.checkpoint import LoadedCheckpoint, load_checkpoint
from generators.errors import InvalidGenerationRequest, UnknownModel
from generators.inference.plain_prompt import model_controls
from generators.inference.sampling import TokenTables
from generators.models.protocol import max_positions
from generators.paths import DEFAULT_CHECKPOINT
from generators.schemas import ModelInfo

__all__ = ["DEFAULT_CHECKPOINT", "LANGUAGE_FAMILIES", "ModelRegistry", "ServedModel"]

LANGUAGE_FAMILIES = ("lstm", "transformer")
"""Checkpoint families served as language models (the others are companions: VAE, SeqGAN
discriminator)."""
MIN_PROMPT_TOKENS = 32
"""The fewest prompt tokens a request may leave room for: the control tokens and the newest
turn's end. A model with a context limit refuses a `max_tokens` that leaves less."""


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

    @property
    def max_positions(self) -> int | None:
        """The most tokens a row may read, prompt and text together (None: no limit)."""
        return max_positions(self.model)

    def prompt_budget(self, budget: int, max_tokens: int) -> int:
        """The prompt budget for a request writing up to `max_tokens` tokens: `budget`, cut so
        that prompt and text fit the model's context. Raises InvalidGenerationRequest when
        `max_tokens` alone leaves less than MIN_PROMPT_TOKENS for the prompt."""
        limit = self.max_positions
        if limit is None:
            return budget
        room = limit - max_tokens
        if room < MIN_PROMPT_TOKENS:
            raise InvalidGenerationRequest(
                f"max_tokens {max_tokens} is too many for model {self.id!r}: it reads "
                f"{limit} tokens in all, prompt included; ask for at most "
                f"{limit - MIN_PROMPT_TOKENS}"
            )
        return min(budget, room)


class ModelRegistry:
    def __init__(self, device: str | torch.device = "cpu"):
        self.device = torch.device(device)
        self.models: dict[str, ServedModel] = {}
        self.default_id: str | None = None

    def load(
        self, path: Path | str, model_id: str | None = None, default: bool = False
    ) -> ServedModel:
        checkpoint = load_checkpoint(Path(path), device=self.device)
        if checkpoint.family not in LANGUAGE_FAMILIES:
            raise ValueError(
                f"{path} is a {checkpoint.family} checkpoint, not a language model "
                f"({' or '.join(LANGUAGE_FAMILIES)})"
            )
        if model_id:
            checkpoint.config["id"] = model_id
        return self.add(checkpoint, default)

    def add(self, checkpoint: LoadedCheckpoint, default: bool = False) -> ServedModel:
        """Serve a loaded language model (a Hugging Face folder:
        generators.inference.served_models)."""
        served = ServedModel(checkpoint, TokenTables(checkpoint.tokenizer, self.device))
        self.models[served.id] = served
        if default or self.default_id is None:
            self.default_id = served.id
        return served

    def get(self, model_id: str | None) -> ServedModel:
        """A model by id, or by family name ("lstm", "transformer"): the first loaded of that
        family, so settings and stories can say `model = "transformer"` whatever the folder's id."""
        key = model_id or self.default_id
        if key is not None and key not in self.models:
            key = next((id_ for id_, m in self.models.items() if m.checkpoint.family == key), key)
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
                controls=model_controls(m.tokenizer),
            )
            for m in self.models.values()
        ]
