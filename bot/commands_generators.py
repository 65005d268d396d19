"""Subcommands that work on models and text: eval, generate, moderate."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _eval(args: argparse.Namespace) -> int:
    from generators.eval import evaluate_checkpoint_on_text

    try:
        result = evaluate_checkpoint_on_text(Path(args.checkpoint), Path(args.text), args.genre)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.format == "json":
        print(json.dumps(result))
    else:
        width = max(len(k) for k in result)
        for key, value in result.items():
            shown = f"{value:.4f}" if isinstance(value, float) else value
            print(f"{key:<{width}}  {shown}")
    return 0


def add_generator_commands(sub: argparse._SubParsersAction) -> None:
    evaluate = sub.add_parser("eval", help="score a text file with a checkpoint (bits per char)")
    evaluate.add_argument("checkpoint", help="checkpoint folder")
    evaluate.add_argument("--text", required=True, help="UTF-8 text, documents split by blank lines")
    evaluate.add_argument("--genre", help="genre control token to condition on")
    evaluate.add_argument("--format", choices=["json", "table"], default="table")
    evaluate.set_defaults(func=_eval)
