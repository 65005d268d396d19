"""Loss-curve PNGs from a run's metrics.jsonl (matplotlib, no display needed)."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def read_metrics(path: Path) -> list[dict]:
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def plot_metrics(
    metrics_path: Path, out_path: Path, monitor: str, loss_unit: str = "nats/token"
) -> Path:
    """Training loss per step and every validation metric that shares the monitor's scale."""
    rows = read_metrics(metrics_path)
    train = [r for r in rows if r.get("kind") == "train"]
    valid = [r for r in rows if r.get("kind") == "validation"]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    if train:
        axes[0].plot([r["step"] for r in train], [r["loss"] for r in train], lw=0.8)
    axes[0].set_title(f"training loss ({loss_unit})")
    axes[0].set_xlabel("step")
    axes[0].grid(alpha=0.3)
    keys = sorted({k for r in valid for k in r if k not in ("kind", "step", "time")})
    shown = [k for k in keys if k == monitor or k.startswith(monitor.split("_")[0])] or keys
    for key in shown:
        points = [(r["step"], r[key]) for r in valid if key in r]
        if points:
            axes[1].plot(*zip(*points, strict=True), marker="o", ms=3, label=key)
    axes[1].set_title(f"validation ({monitor})")
    axes[1].set_xlabel("step")
    axes[1].grid(alpha=0.3)
    if shown:
        axes[1].legend(fontsize=8)
    fig.tight_layout()
    out_path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_path, dpi=110)
    plt.close(fig)
    return out_path
