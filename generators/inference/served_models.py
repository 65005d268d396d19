"""Models named in the config beside the project's checkpoints, including ones brought from
elsewhere: `[[service.models]]` (or `[[generator.models]]` for the in-process generator)

    [[service.models]]
    id = "my-model"
    path = "/models/x"
    format = "huggingface"     # any local causal-LM folder; "talewright": one of ours
    max_positions = 2048       # optional: the config's own limit otherwise
    default = true             # optional: the model requests get when they name none

A `huggingface` folder is read from local files only (never a download): its model through
generators.models.hf_causal, its own tokenizer through generators.text.hf_tokenizer, and its
prompts are plain prose (generators.inference.plain_prompt). Any reason it cannot serve (no folder,
not a causal LM, a tokenizer that does not fit the model) is a CheckpointError at start-up.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import cast

import torch

from generators.checkpoint import LoadedCheckpoint
from generators.inference.model_specs import ModelSpec
from generators.inference.registry import ModelRegistry, ServedModel
from generators.text.tokenizer import TextTokenizer

HF_CARD_FILE = "README.md"


@dataclass
class HFCheckpoint(LoadedCheckpoint):
    """A Hugging Face folder loaded for serving: its card is the folder's README, if any."""

    @property
    def card(self) -> str:
        readme = self.path / HF_CARD_FILE
        return readme.read_text(encoding="utf-8", errors="replace") if readme.is_file() else ""


def load_huggingface(
    folder: Path | str,
    *,
    model_id: str | None = None,
    max_positions: int | None = None,
    dtype: torch.dtype = torch.float32,
    device: str | torch.device = "cpu",
) -> HFCheckpoint:
    """A local causal-LM folder with its own tokenizer; CheckpointError says why it cannot serve."""
    from generators.models.hf_causal import HFCausalLanguageModel
    from generators.text.hf_tokenizer import HFTokenizer

    folder = Path(folder)
    model = HFCausalLanguageModel.from_folder(folder, max_positions)
    tokenizer = HFTokenizer.from_folder(folder, model.vocab_size)
    model = model.to(device=device, dtype=dtype)
    config = {
        "id": model_id or folder.name,
        "format": "huggingface",
        "model_type": getattr(model.model.config, "model_type", ""),
        "max_positions": model.max_positions,
        "parameters": model.num_parameters(),
    }
    # HFTokenizer answers every call serving makes of a TextTokenizer (duck-typed; a shared
    # Protocol would have to reach every serving module that names TextTokenizer).
    served_tokenizer = cast(TextTokenizer, tokenizer)
    return HFCheckpoint(folder, HFCausalLanguageModel.family, model, served_tokenizer, config)


def add_model(registry: ModelRegistry, spec: ModelSpec, dtype: torch.dtype) -> ServedModel:
    """Load `spec` into `registry`; the first model loaded, or one marked default, is the
    default."""
    if spec.format == "talewright":
        served = registry.load(spec.path, model_id=spec.id, default=spec.default)
        served.checkpoint.model.to(dtype)
        return served
    checkpoint = load_huggingface(
        spec.path,
        model_id=spec.id,
        max_positions=spec.max_positions,
        dtype=dtype,
        device=registry.device,
    )
    return registry.add(checkpoint, default=spec.default)
