"""How the settings name a model to serve (`[[service.models]]`, `[[generator.models]]`).

Kept free of torch so that reading the settings stays cheap; generators.inference.served_models
loads what these name.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class ModelSpec(BaseModel):
    """One served model: a Talewright checkpoint, or (`format = "huggingface"`) any local
    causal-LM folder with its own tokenizer."""

    model_config = ConfigDict(extra="forbid")

    path: Path
    id: str | None = Field(default=None, min_length=1, max_length=100)
    format: Literal["talewright", "huggingface"] = "talewright"
    max_positions: int | None = Field(default=None, ge=16)
    """huggingface: the most tokens a row reads, when the model's config does not say."""
    default: bool = False
