"""Where the bundled checkpoints live (torch-free, so settings can name them cheaply)."""

from __future__ import annotations

from pathlib import Path

CHECKPOINTS_DIR = Path(__file__).parent / "checkpoints"
DEFAULT_CHECKPOINT = CHECKPOINTS_DIR / "default"
VAE_CHECKPOINT = CHECKPOINTS_DIR / "vae"
SEQGAN_CHECKPOINT = CHECKPOINTS_DIR / "seqgan"
