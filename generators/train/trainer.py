"""One generic trainer for every model family.

The trainer owns what all runs share: AdamW, warmup + cosine learning rate, gradient clipping,
mixed precision, CPU threads, a progress bar, metrics as JSONL, periodic validation, a loss
curve, and checkpoints that resume exactly (model, optimizer, step, RNG, and the task's data
position). A `TrainingTask` owns what differs: batches, the loss of one step, validation, and
exporting the best model as a checkpoint folder.
"""

from __future__ import annotations

import json
import logging
import math
import os
import random
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar, cast

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch import nn
from tqdm import tqdm

from generators.train.state_folder import publish, recover, staging, write_manifest

log = logging.getLogger(__name__)


@dataclass
class TrainConfig:
    max_steps: int = 1000
    lr: float = 2e-3
    min_lr_ratio: float = 0.05
    warmup_steps: int = 100
    weight_decay: float = 0.01
    beta1: float = 0.9
    beta2: float = 0.99
    grad_clip: float = 1.0
    eval_every: int = 250
    checkpoint_every: int = 250
    log_every: int = 10
    seed: int = 0
    threads: int = 0
    device: str = "auto"
    precision: str = "auto"
    early_stop_patience: int = 0
    time_limit_minutes: float = 0.0
    """Stop (validate, save, export) once this much training time has passed in this process;
    the learning rate then follows the larger of step progress and time progress, so a
    fixed-time run still ends its cosine at the floor. 0: no limit."""

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        known = {f for f in cls.__dataclass_fields__}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown [train] keys: {', '.join(sorted(unknown))}")
        return cls(**values)


M = TypeVar("M", bound=nn.Module)
M_contra = TypeVar("M_contra", bound=nn.Module, contravariant=True)


class TrainingTask(Protocol[M_contra]):
    """What a model family plugs into the Trainer; it is handed the family's own model class."""

    def batches(self) -> Iterator[Any]: ...

    def loss(self, model: M_contra, batch: Any, step: int) -> tuple[torch.Tensor, dict[str, float]]:
        """Loss to minimise for one batch, plus extra metrics to log."""
        ...

    def validate(self, model: M_contra) -> dict[str, float]:
        """Validation metrics; must contain the key named by `monitor`."""
        ...

    monitor: str
    loss_unit: str
    """What one unit of the training loss is (the loss curve's label), e.g. "nats/token"."""

    def state(self) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        """Data position as JSON-able values and tensors (e.g. a carried recurrent state)."""
        ...

    def load_state(self, values: dict[str, Any], tensors: dict[str, torch.Tensor]) -> None: ...

    def export(self, model: M_contra, folder: Path, metrics: dict[str, Any]) -> None:
        """Write `model` as a self-describing checkpoint folder."""
        ...


class Callback:
    """Hooks for code that rides along a run (extra logging, sample printing, early stop)."""

    def on_step(self, trainer: Trainer, step: int, metrics: dict[str, float]) -> None: ...

    def on_validate(self, trainer: Trainer, step: int, metrics: dict[str, float]) -> None: ...

    def on_checkpoint(self, trainer: Trainer, step: int) -> None: ...

    def on_end(self, trainer: Trainer) -> None: ...


def configure_threads(config: TrainConfig, device: torch.device | None = None) -> None:
    """Fix the CPU thread count before any model is built: results (even the QR of an orthogonal
    init) differ in the last bits between thread counts, and exact resume needs them equal."""
    if (device or pick_device(config.device)).type == "cpu":
        torch.set_num_threads(config.threads or max(1, min(os.cpu_count() or 1, 8)))


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def cpu_supports_bf16(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """AMX or AVX-512 BF16 make bfloat16 matmuls faster than float32 on a CPU; otherwise slower
    (and oneDNN's LSTM may refuse bfloat16 altogether: see generators.service.loading)."""
    try:
        text = cpuinfo.read_text()
    except OSError:
        return False
    flags = set(text.split())
    return "amx_bf16" in flags or "avx512_bf16" in flags


def pick_precision(name: str, device: torch.device) -> torch.dtype | None:
    if name == "fp32":
        return None
    if name == "bf16":
        return torch.bfloat16
    if name == "fp16":
        return torch.float16
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.bfloat16 if cpu_supports_bf16() else None


@dataclass
class RunState:
    step: int = 0
    best_metric: float = math.inf
    best_step: int = -1
    evals_since_best: int = 0
    history: list[dict[str, float]] = field(default_factory=list)


class Trainer(Generic[M]):
    def __init__(
        self,
        model: M,
        task: TrainingTask[M],
        config: TrainConfig,
        out_dir: Path,
        callbacks: list[Callback] | None = None,
        run_info: dict[str, Any] | None = None,
    ):
        self.config = config
        self.task = task
        self.out_dir = Path(out_dir)
        self.callbacks = callbacks or []
        self.run_info = run_info or {}
        self.device = pick_device(config.device)
        self.precision = pick_precision(config.precision, self.device)
        configure_threads(config, self.device)
        self.model = model.to(self.device)
        decay, no_decay = [], []
        for name, param in self.model.named_parameters():
            (no_decay if param.ndim < 2 or "bias" in name else decay).append(param)
        self.optimizer = torch.optim.AdamW(
            [
                {"params": decay, "weight_decay": config.weight_decay},
                {"params": no_decay, "weight_decay": 0.0},
            ],
            lr=config.lr,
            betas=(config.beta1, config.beta2),
        )
        self.scaler = torch.amp.GradScaler(
            enabled=self.device.type == "cuda" and self.precision == torch.float16
        )
        self.state = RunState()
        self.metrics_path = self.out_dir / "metrics.jsonl"
        self.last_dir = self.out_dir / "last"
        self.best_dir = self.out_dir / "best"

    def lr_at(self, step: int, time_progress: float = 0.0) -> float:
        cfg = self.config
        if step < cfg.warmup_steps:
            return cfg.lr * (step + 1) / cfg.warmup_steps
        progress = (step - cfg.warmup_steps) / max(1, cfg.max_steps - cfg.warmup_steps)
        progress = max(progress, time_progress)
        cosine = 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))
        return cfg.lr * (cfg.min_lr_ratio + (1 - cfg.min_lr_ratio) * cosine)

    def fit(self, resume: bool = True) -> RunState:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        if resume and recover(self.last_dir):
            self.load_training_state()
            log.info("resumed from step %d", self.state.step)
        else:
            self._seed_everything()
            (self.out_dir / "run.json").write_text(
                json.dumps({"train": asdict(self.config), **self.run_info}, indent=2) + "\n"
            )
        cfg = self.config
        batches = self.task.batches()
        bar = tqdm(
            total=cfg.max_steps,
            initial=self.state.step,
            desc="train",
            dynamic_ncols=True,
            mininterval=5.0,
        )
        window_loss, window_tokens, window_start = 0.0, 0, time.perf_counter()
        stopped_early = False
        started = time.perf_counter()
        limit_s = cfg.time_limit_minutes * 60.0
        while self.state.step < cfg.max_steps:
            step = self.state.step
            spent = time.perf_counter() - started
            lr = self.lr_at(step, spent / limit_s if limit_s else 0.0)
            for group in self.optimizer.param_groups:
                group["lr"] = lr
            batch = next(batches)
            self.model.train()
            with torch.autocast(
                self.device.type,
                dtype=self.precision or torch.float32,
                enabled=self.precision is not None,
            ):
                loss, extra = self.task.loss(self.model, batch, step)
            self.optimizer.zero_grad(set_to_none=True)
            self.scaler.scale(loss).backward()
            self.scaler.unscale_(self.optimizer)
            grad_norm = float(
                torch.nn.utils.clip_grad_norm_(self.model.parameters(), cfg.grad_clip)
            )
            self.scaler.step(self.optimizer)
            self.scaler.update()
            self.state.step += 1
            window_loss += float(loss.detach())
            window_tokens += int(extra.pop("tokens", 0))
            bar.update(1)
            if self.state.step % cfg.log_every == 0 or self.state.step == cfg.max_steps:
                elapsed = time.perf_counter() - window_start
                metrics = {
                    "step": self.state.step,
                    "loss": window_loss / cfg.log_every,
                    "lr": lr,
                    "grad_norm": grad_norm,
                    "tokens_per_s": window_tokens / max(elapsed, 1e-9),
                    **extra,
                }
                self._write_metrics({"kind": "train", **metrics})
                bar.set_postfix(loss=f"{metrics['loss']:.3f}", lr=f"{lr:.1e}")
                for callback in self.callbacks:
                    callback.on_step(self, self.state.step, metrics)
                window_loss, window_tokens, window_start = 0.0, 0, time.perf_counter()
            out_of_time = bool(limit_s) and time.perf_counter() - started >= limit_s
            at_end = self.state.step == cfg.max_steps or out_of_time
            if self.state.step % cfg.eval_every == 0 or at_end:
                stopped_early = self._validate()
            if self.state.step % cfg.checkpoint_every == 0 or at_end or stopped_early:
                self.save_training_state()
                for callback in self.callbacks:
                    callback.on_checkpoint(self, self.state.step)
            if stopped_early or out_of_time:
                log.info("stopped at step %d", self.state.step)
                break
        bar.close()
        for callback in self.callbacks:
            callback.on_end(self)
        return self.state

    def _validate(self) -> bool:
        """Run validation, keep the best export; True when early stopping triggers."""
        metrics = self.task.validate(self.model)
        metrics = {"step": self.state.step, **metrics}
        self._write_metrics({"kind": "validation", **metrics})
        self.state.history.append(metrics)
        value = metrics[self.task.monitor]
        if value < self.state.best_metric:
            self.state.best_metric = value
            self.state.best_step = self.state.step
            self.state.evals_since_best = 0
            self.task.export(self.model, self.best_dir, metrics)
        else:
            self.state.evals_since_best += 1
        self.plot_curves()
        tqdm.write(
            f"step {self.state.step}: "
            + ", ".join(f"{k}={v:.4f}" for k, v in metrics.items() if k != "step")
        )
        for callback in self.callbacks:
            callback.on_validate(self, self.state.step, metrics)
        patience = self.config.early_stop_patience
        return bool(patience) and self.state.evals_since_best >= patience

    def _write_metrics(self, row: dict[str, Any]) -> None:
        with self.metrics_path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps({**row, "time": time.time()}) + "\n")

    def plot_curves(self) -> Path:
        from generators.train.curves import plot_metrics

        return plot_metrics(
            self.metrics_path,
            self.out_dir / "loss_curve.png",
            self.task.monitor,
            self.task.loss_unit,
        )

    def _seed_everything(self) -> None:
        seed = self.config.seed
        random.seed(seed)
        np.random.seed(seed)
        torch.manual_seed(seed)

    def save_training_state(self) -> None:
        """Everything needed to resume exactly; safetensors and JSON only. A kill at any
        moment leaves the previous save or this one to resume from (state_folder.py)."""
        tmp = staging(self.last_dir)
        save_file(
            {k: v.detach().contiguous().cpu() for k, v in self.model.state_dict().items()},
            str(tmp / "model.safetensors"),
        )
        opt_tensors, opt_meta = _flatten_optimizer(self.optimizer)
        save_file(opt_tensors, str(tmp / "optimizer.safetensors"))
        task_values, task_tensors = self.task.state()
        rng_tensors = {"torch": torch.get_rng_state()}
        if torch.cuda.is_available():
            rng_tensors["cuda"] = torch.cuda.get_rng_state()
        save_file(
            {
                **{f"task.{k}": v.detach().contiguous().cpu() for k, v in task_tensors.items()},
                **{f"rng.{k}": v for k, v in rng_tensors.items()},
            },
            str(tmp / "state.safetensors"),
        )
        # The legacy global generator is an MT19937, whose state comes in the tuple form.
        np_state = cast(tuple[Any, ...], np.random.get_state())
        meta = {
            "run": {**asdict(self.state)},
            "optimizer": opt_meta,
            "task": task_values,
            "python_random": _jsonable(random.getstate()),
            "numpy_random": [np_state[0], np_state[1].tolist(), *np_state[2:]],
            "scaler": self.scaler.state_dict() if self.scaler.is_enabled() else None,
        }
        (tmp / "trainer.json").write_text(json.dumps(meta))
        write_manifest(tmp, self.state.step)
        publish(tmp, self.last_dir)

    def load_training_state(self) -> None:
        meta = json.loads((self.last_dir / "trainer.json").read_text())
        self.model.load_state_dict(load_file(str(self.last_dir / "model.safetensors")))
        opt_tensors = load_file(str(self.last_dir / "optimizer.safetensors"))
        _restore_optimizer(self.optimizer, opt_tensors, meta["optimizer"])
        tensors = load_file(str(self.last_dir / "state.safetensors"))
        self.task.load_state(
            meta["task"],
            {k.removeprefix("task."): v for k, v in tensors.items() if k.startswith("task.")},
        )
        torch.set_rng_state(tensors["rng.torch"])
        if "rng.cuda" in tensors and torch.cuda.is_available():
            torch.cuda.set_rng_state(tensors["rng.cuda"])
        random.setstate(_tuplify(meta["python_random"]))
        np_state = meta["numpy_random"]
        np.random.set_state((np_state[0], np.array(np_state[1], dtype=np.uint32), *np_state[2:]))
        if meta.get("scaler") and self.scaler.is_enabled():
            self.scaler.load_state_dict(meta["scaler"])
        self.state = RunState(**meta["run"])


def _flatten_optimizer(optimizer: torch.optim.Optimizer) -> tuple[dict, dict]:
    state_dict = optimizer.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for param_id, param_state in state_dict["state"].items():
        for name, value in param_state.items():
            if isinstance(value, torch.Tensor):
                tensors[f"{param_id}.{name}"] = value.detach().contiguous().cpu()
            else:
                scalars.setdefault(str(param_id), {})[name] = value
    return tensors, {"param_groups": state_dict["param_groups"], "scalars": scalars}


def _restore_optimizer(optimizer: torch.optim.Optimizer, tensors: dict, meta: dict) -> None:
    state: dict[int, dict[str, Any]] = {}
    for key, value in tensors.items():
        param_id, name = key.split(".", 1)
        state.setdefault(int(param_id), {})[name] = value
    for param_id, values in meta["scalars"].items():
        state.setdefault(int(param_id), {}).update(values)
    optimizer.load_state_dict({"state": state, "param_groups": meta["param_groups"]})


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    return value


def _tuplify(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_tuplify(v) for v in value)
    return value
