"""Which device and precision to serve on, and the checkpoints loaded onto it."""

from __future__ import annotations

from pathlib import Path

import torch

from generators.checkpoint import read_config
from generators.registry import ModelRegistry
from generators.train.trainer import cpu_supports_bf16


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


def serving_autocast(precision: str, device: torch.device) -> torch.dtype | None:
    """Mixed precision for the worker's model steps: bfloat16 for `bf16`, and for `auto` on a
    CPU with AMX or AVX-512 BF16; nothing on a GPU, which already serves float16 weights.

    Not the default: with the bundled model on this machine's 2 cores, sampling alone went from
    923 to 1,317 tokens/s at batch 32 and from 1,518 to 2,163 at batch 128 (batch 1 unchanged
    at about 170), but the whole service (HTTP, tokenizing, moderation, and the benchmark's own
    clients on the same cores) generated fewer tokens per CPU-second with it at 3 of 4 client
    counts in bench/service.py (88 -> 62 at 1 client, 624 -> 533 at 128)."""
    if precision == "fp32" or device.type != "cpu":
        return None
    if precision == "bf16" or cpu_supports_bf16():
        return torch.bfloat16
    return None


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
