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


def plot_seqgan(out_dir: Path) -> Path:
    """Four panels: MLE pretraining, discriminator, generator rewards, the monitored NLLs."""
    rows = read_metrics(out_dir / "metrics.jsonl")
    mle = read_metrics(out_dir / "mle" / "metrics.jsonl")
    fig, axes = plt.subplots(2, 2, figsize=(11, 7))
    ax = axes[0][0]
    train = [r for r in mle if r.get("kind") == "train"]
    valid = [r for r in mle if r.get("kind") == "validation"]
    if train:
        ax.plot([r["step"] for r in train], [r["loss"] for r in train], lw=0.8, label="train NLL")
    for key in ("val_nll", "nll_oracle"):
        points = [(r["step"], r[key]) for r in valid if key in r]
        if points:
            ax.plot(*zip(*points, strict=True), marker="o", ms=3, label=key)
    ax.set_title("1. MLE pretraining (nats/token)")
    ax.set_xlabel("step")
    ax = axes[0][1]
    d_rows = [r for r in rows if r.get("kind") in ("d_pretrain", "d_step")]
    ax.plot(range(len(d_rows)), [r["d_loss"] for r in d_rows], lw=0.8, label="d_loss")
    ax.plot(range(len(d_rows)), [r["d_acc"] for r in d_rows], lw=0.8, label="d_acc")
    pre = sum(r.get("kind") == "d_pretrain" for r in d_rows)
    if d_rows:
        ax.axvline(pre - 0.5, color="grey", ls="--", lw=0.8)
    ax.set_title("2-3. discriminator (pretraining | adversarial d-steps)")
    ax.set_xlabel("d-step")
    ax = axes[1][0]
    g_rows = [r for r in rows if r.get("kind") == "g_step"]
    ax.plot(
        [r["round"] for r in g_rows],
        [r["mean_reward"] for r in g_rows],
        lw=0.8,
        label="mean reward",
    )
    ax.plot(
        [r["round"] for r in g_rows],
        [r["final_reward"] for r in g_rows],
        lw=0.8,
        label="P(real) of samples",
    )
    ax.set_title("3. generator rewards")
    ax.set_xlabel("round")
    ax = axes[1][1]
    v_rows = [r for r in rows if r.get("kind") == "validation"]
    for key in ("nll_oracle", "val_nll"):
        points = [(r["round"], r[key]) for r in v_rows if key in r]
        if points:
            ax.plot(*zip(*points, strict=True), marker="o", ms=3, label=key)
    ax.set_title("3. adversarial rounds (nats/token)")
    ax.set_xlabel("round")
    for ax in axes.flat:
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
    fig.tight_layout()
    path = out_dir / "loss_curve.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
