"""Which device and precision to serve on, and the checkpoints loaded onto it."""

from __future__ import annotations

from pathlib import Path

import torch

from generators.checkpoint import read_config
from generators.registry import ModelRegistry


def resolve_device(name: str) -> torch.device:
    """`auto` picks CUDA when present, else the CPU; a named CUDA device must exist."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {name!r} requested but CUDA is not available")
    return device


def serving_dtype(device: torch.device) -> torch.dtype:
    """Half precision on GPU (cuDNN's LSTM supports float16 everywhere); float32 on CPU, where
    half-precision matrix products are slower, not faster."""
    return torch.float16 if device.type == "cuda" else torch.float32


def load_registry(checkpoints: list[Path], device: torch.device) -> ModelRegistry:
    """Load every checkpoint; the first is the default. Two folders with the same id (two runs'
    `best`) are told apart by their parent folder's name."""
    if not checkpoints:
        raise ValueError("no checkpoints to serve")
    registry = ModelRegistry(device)
    dtype = serving_dtype(device)
    for path in map(Path, checkpoints):
        model_id = read_config(path).get("id") or path.name
        if model_id in registry.models:
            model_id = f"{path.parent.name}-{path.name}"
        served = registry.load(path, model_id=model_id)
        served.checkpoint.model.to(dtype)
    return registry
