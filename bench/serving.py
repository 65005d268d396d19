"""What the served-turn benchmarks share: their command-line options, the in-process generator
they serve through (as the bot does), and how they write their report."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from generators.paths import DEFAULT_CHECKPOINT, VAE_CHECKPOINT, retrieval_index


def add_serving_options(parser: argparse.ArgumentParser) -> None:
    """The checkpoint, VAE and passage index to serve with, the seed, threads and output."""
    parser.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT)
    parser.add_argument("--vae", type=Path, default=VAE_CHECKPOINT)
    parser.add_argument("--retrieval-index", type=Path, default=retrieval_index())
    parser.add_argument("--no-retrieval", action="store_true", help="turns from the models alone")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--out", type=Path, help="also write the JSON here")


def served_generator(args: argparse.Namespace):
    """The in-process generator the options describe, with the bot's moderation (its word
    lists; the learned classifier left out, as the continuation benchmark does)."""
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    from generators.client import InProcessGenerator
    from generators.moderation import Moderator

    return InProcessGenerator.from_checkpoints(
        [args.checkpoint],
        moderator=Moderator(use_classifier=False),
        vae=args.vae,
        retrieval_index=None if args.no_retrieval else args.retrieval_index,
    )


def write_report(report: dict[str, Any], out: Path | None) -> None:
    """The whole report to `out` (when given); everything but the samples to stdout."""
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in report.items() if k != "samples"}, indent=2))
