"""The GPU recipe: train the transformer on one GPU in a fixed time, from a carried bundle.

A GPU machine may have no internet and none of this project's extra packages (mood tagging,
moderation), so the corpus is prepared here first (`bundle`: the documents, their report and the
tokenizer, exactly what `prepare_corpus` would write) into a git-ignored folder that travels with
the working tree; `train` there reads only that folder and writes the finished checkpoint, its
metrics and loss curve under the output folder.

    python -m generators.train.gpu_recipe bundle --to carry/gpu
    python -m generators.train.gpu_recipe train --bundle carry/gpu --out OUT
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

DEFAULT_CONFIG = Path("configs/transformer_gpu.toml")
PREPARED_FILES = ("documents.jsonl", "corpus_report.json", "tokenizer.json")
PACKED = {"documents.jsonl": "documents.jsonl.gz"}
"""Prepared files the bundle carries compressed, by the name the training run reads."""


def bundle(config_path: Path, data: Path | None, to: Path) -> Path:
    """Prepare the corpus as the training run will read it, plus the config, under `to`."""
    from generators.train.prepare import data_config, prepare_corpus
    from generators.train.transformer import _copy_tokenizer

    config = tomllib.loads(config_path.read_text(encoding="utf-8"))
    data_cfg = data_config(config, data)
    to.mkdir(parents=True, exist_ok=True)
    tokenizer = config.get("init", {}).get("tokenizer")
    if tokenizer:
        _copy_tokenizer(Path(tokenizer), to)
    packed = {name: to / gz for name, gz in PACKED.items()}
    for name, gz in packed.items():
        if gz.exists() and not (to / name).exists():
            _unpack(gz, to / name)
    prepare_corpus(data_cfg, config.get("tokenizer", {}), to)
    for name, gz in packed.items():
        with (to / name).open("rb") as source, gzip.open(gz, "wb", compresslevel=6) as target:
            shutil.copyfileobj(source, target)
        (to / name).unlink()
    shutil.copyfile(config_path, to / "config.toml")
    for other in config_path.parent.glob(f"{config_path.stem}_*.toml"):
        shutil.copyfile(other, to / other.name)
    return to


def train(
    bundle_dir: Path,
    out: Path,
    minutes: float | None = None,
    device: str | None = None,
    precision: str | None = None,
    overrides: dict[str, dict[str, Any]] | None = None,
    config_path: Path | None = None,
) -> dict[str, Any]:
    """Train from a bundle; write OUT/checkpoint (the best export) and OUT/summary.json.

    `config_path` trains another shape on the same prepared corpus (the bundle's own config,
    the one it was prepared with, by default)."""
    from generators.train.transformer import train_transformer

    missing = [
        name
        for name in PREPARED_FILES
        if not (bundle_dir / name).is_file() and not (bundle_dir / PACKED.get(name, name)).is_file()
    ]
    if missing or not (bundle_dir / "config.toml").is_file():
        raise FileNotFoundError(
            f"{bundle_dir} is not a GPU bundle (missing {', '.join(missing) or 'config.toml'}); "
            "make it with `python -m generators.train.gpu_recipe bundle`"
        )
    config_path = config_path or bundle_dir / "config.toml"
    config = tomllib.loads(config_path.read_text(encoding="utf-8"))
    for section, values in (overrides or {}).items():
        config.setdefault(section, {}).update(values)
    config.setdefault("init", {}).pop("tokenizer", None)
    train_cfg = config.setdefault("train", {})
    if minutes is not None:
        train_cfg["time_limit_minutes"] = minutes
    if device is not None:
        train_cfg["device"] = device
    if precision is not None:
        train_cfg["precision"] = precision
    run = out / "run"
    run.mkdir(parents=True, exist_ok=True)
    for name in PREPARED_FILES:
        if (run / name).exists():
            continue
        if (bundle_dir / name).is_file():
            shutil.copyfile(bundle_dir / name, run / name)
        else:
            _unpack(bundle_dir / PACKED[name], run / name)
    started = time.perf_counter()
    best = train_transformer(config, run, None, resume=True)
    seconds = time.perf_counter() - started
    checkpoint = out / "checkpoint"
    if checkpoint.exists():
        shutil.rmtree(checkpoint)
    shutil.copytree(best, checkpoint)
    for name in ("loss_curve.png", "metrics.jsonl"):
        if (run / name).exists():
            shutil.copyfile(run / name, checkpoint / name)
    summary = {
        "seconds": round(seconds, 1),
        "checkpoint": str(checkpoint),
        "validation": json.loads((best / "talewright.json").read_text()).get("validation", {}),
        "tokens_per_s": _mean_tokens_per_s(run / "metrics.jsonl"),
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return summary


def _unpack(gz: Path, target: Path) -> None:
    with gzip.open(gz, "rb") as source, target.open("wb") as out:
        shutil.copyfileobj(source, out)


def _mean_tokens_per_s(metrics: Path) -> float:
    rows = [json.loads(line) for line in metrics.read_text().splitlines() if line.strip()]
    speeds = [r["tokens_per_s"] for r in rows if r.get("kind") == "train" and "tokens_per_s" in r]
    return round(sum(speeds) / len(speeds), 1) if speeds else 0.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m generators.train.gpu_recipe")
    sub = parser.add_subparsers(dest="command", required=True)
    make = sub.add_parser("bundle", help="prepare the corpus and config to carry to a GPU")
    make.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    make.add_argument("--data", type=Path, help="corpus folder (overrides [data] path)")
    make.add_argument("--to", type=Path, default=Path("carry/gpu"))
    run = sub.add_parser("train", help="train from a bundle and write OUT/checkpoint")
    run.add_argument("--bundle", type=Path, default=Path("carry/gpu"))
    run.add_argument("--out", type=Path, required=True)
    run.add_argument(
        "--config", type=Path, help="another shape's config (default: the bundle's config.toml)"
    )
    run.add_argument("--minutes", type=float, help="time limit (default: the config's)")
    run.add_argument("--device", help="cuda (default: the config's) or cpu")
    run.add_argument("--precision", help="bf16 (default: the config's), fp16 or fp32")
    args = parser.parse_args(argv)
    if args.command == "bundle":
        print(f"bundle written to {bundle(args.config, args.data, args.to)}")
        return 0
    try:
        summary = train(
            args.bundle,
            args.out,
            args.minutes,
            args.device,
            args.precision,
            config_path=args.config,
        )
    except FileNotFoundError as exc:
        print(exc, file=sys.stderr)
        return 2
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
