"""Which device and precision to serve on, and the checkpoints loaded onto it."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path

import torch

from generators.checkpoint import read_config
from generators.inference.model_specs import ModelSpec
from generators.inference.registry import ModelRegistry
from generators.inference.served_models import add_model
from generators.train.trainer import cpu_supports_bf16

log = logging.getLogger(__name__)


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


class PrecisionUnsupported(ValueError):
    """`precision = "bf16"` on a CPU whose LSTM kernels cannot run bfloat16."""


def bf16_lstm_works() -> bool:
    """Run one tiny LSTM step under bfloat16 autocast, as the worker would, and report whether
    it ran: oneDNN has no bfloat16 LSTM on CPUs without AVX-512 (an AVX2-only AMD EPYC fails
    every step with "could not create a primitive descriptor")."""
    lstm = torch.nn.LSTM(8, 8, batch_first=True)
    try:
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16):
            lstm(torch.zeros(1, 1, 8))
    except RuntimeError as exc:
        log.info("bfloat16 LSTM probe failed on this CPU: %s", exc)
        return False
    return True


def serving_autocast(
    precision: str,
    device: torch.device,
    *,
    probe: Callable[[], bool] | None = None,
    fast_bf16: Callable[[], bool] = cpu_supports_bf16,
) -> torch.dtype | None:
    """Mixed precision for the worker's model steps, decided once at start-up.

    `bf16`: bfloat16 where `probe` (default `bf16_lstm_works`) runs a bfloat16 LSTM step, else
    `PrecisionUnsupported` (the operator asked for it by name, so the service refuses to start
    rather than serve something else). `auto`: bfloat16 on a CPU with AMX or AVX-512 BF16 where
    the probe passes too. Nothing on a GPU, which already serves float16 weights.

    Not the default: with the bundled model on this machine's 2 cores, sampling alone went from
    923 to 1,317 tokens/s at batch 32 and from 1,518 to 2,163 at batch 128 (batch 1 unchanged
    at about 170), but the whole service (HTTP, tokenizing, moderation, and the benchmark's own
    clients on the same cores) generated fewer tokens per CPU-second with it at 3 of 4 client
    counts in bench/service.py (88 -> 62 at 1 client, 624 -> 533 at 128)."""
    if precision == "fp32" or device.type != "cpu":
        return None
    probe = probe or bf16_lstm_works
    if precision == "bf16":
        if not probe():
            raise PrecisionUnsupported(
                'precision = "bf16" is not supported on this CPU: its LSTM kernels cannot run '
                'bfloat16; set [service] precision = "fp32" or "auto"'
            )
        return torch.bfloat16
    if fast_bf16() and probe():
        return torch.bfloat16
    return None


def load_registry(
    checkpoints: list[Path], device: torch.device, models: Sequence[ModelSpec] = ()
) -> ModelRegistry:
    """Load every checkpoint, then the `models` the settings name (a Hugging Face folder among
    them: generators.inference.served_models); the first is the default unless a model says
    `default`. Two folders with the same id (two runs' `best`) are told apart by their parent
    folder's name."""
    if not checkpoints and not models:
        raise ValueError("no checkpoints to serve")
    registry = ModelRegistry(device)
    dtype = serving_dtype(device)
    for path in map(Path, checkpoints):
        model_id = read_config(path).get("id") or path.name
        if model_id in registry.models:
            model_id = f"{path.parent.name}-{path.name}"
        served = registry.load(path, model_id=model_id)
        served.checkpoint.model.to(dtype)
    for spec in models:
        add_model(registry, spec, dtype)
    return registry
