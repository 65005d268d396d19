"""Where the bundled checkpoints live (torch-free, so settings can name them cheaply)."""

from __future__ import annotations

from pathlib import Path

CHECKPOINTS_DIR = Path(__file__).parent / "checkpoints"
DEFAULT_CHECKPOINT = CHECKPOINTS_DIR / "default"
TRANSFORMER_CHECKPOINT = CHECKPOINTS_DIR / "transformer"
BUNDLED_MODELS = {"lstm": DEFAULT_CHECKPOINT, "transformer": TRANSFORMER_CHECKPOINT}
"""The bundled language models by the name a person picks them with (`talewright play --model`,
`[generator] model`); the first is the default."""


def bundled_checkpoints() -> list[Path]:
    """Every bundled language model that is present, the default first."""
    return [DEFAULT_CHECKPOINT] + [p for p in (TRANSFORMER_CHECKPOINT,) if p.is_dir()]


def model_folder(name: str) -> Path:
    """A bundled model's folder by name ("lstm", "transformer"), or `name` as a folder."""
    return BUNDLED_MODELS.get(name, Path(name))


VAE_CHECKPOINT = CHECKPOINTS_DIR / "vae"
SEQGAN_CHECKPOINT = CHECKPOINTS_DIR / "seqgan"
