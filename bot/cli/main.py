"""`talewright`: one entry point for playing, serving, training, evaluating and benchmarking.

Heavy imports (torch, discord, the service) happen inside each subcommand, so `talewright
moderate` or `--help` stay fast.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tomllib
from collections.abc import Sequence
from pathlib import Path

from bot.cli.commands_backup import add_backup_command
from bot.cli.commands_bot import add_bot_command
from bot.cli.commands_data import add_data_command
from bot.cli.commands_db import add_db_command
from bot.cli.commands_feedback import add_export_feedback_command
from bot.cli.commands_generators import add_generator_commands
from bot.cli.commands_play import add_play_command
from bot.cli.commands_serve import add_serve_command


def _train(args: argparse.Namespace) -> int:
    try:
        config = tomllib.loads(Path(args.config).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        print(f"cannot read training config {args.config}: {exc}", file=sys.stderr)
        return 2
    out_dir = Path(args.out or f"runs/{args.model}-{Path(args.config).stem}")
    data_dir = Path(args.data) if args.data else None
    if args.model == "lstm":
        from generators.train.lstm import train_lstm

        best = train_lstm(config, out_dir, data_dir, resume=not args.restart)
    elif args.model == "transformer":
        from generators.train.transformer import train_transformer

        best = train_transformer(config, out_dir, data_dir, resume=not args.restart)
    elif args.model == "vae":
        from generators.train.vae import train_vae

        best = train_vae(config, out_dir, data_dir, resume=not args.restart)
    else:
        from generators.train.seqgan import train_seqgan

        best = train_seqgan(config, out_dir, data_dir, resume=not args.restart)
    print(f"best checkpoint: {best}")
    return 0


def _export(args: argparse.Namespace) -> int:
    from generators.train.finalize import finalize_lstm

    data = Path(args.data) if args.data else None
    figures = finalize_lstm(Path(args.run), Path(args.to), args.samples, data)
    for key, value in figures.items():
        print(f"{key:<36} {value:.4f}" if isinstance(value, float) else f"{key:<36} {value}")
    print(f"checkpoint written to {args.to}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    # `python -OO` strips docstrings: no description then, rather than a crash.
    description = (__doc__ or "").partition("\n")[0]
    parser = argparse.ArgumentParser(prog="talewright", description=description)
    parser.add_argument("--log-level", default="WARNING", help="logging level (default WARNING)")
    sub = parser.add_subparsers(dest="command", required=True)

    train = sub.add_parser("train", help="train a model from a TOML config")
    train.add_argument("model", choices=["lstm", "transformer", "vae", "seqgan"])
    train.add_argument("--config", required=True, help="TOML file with every hyperparameter")
    train.add_argument("--data", help="corpus folder (overrides [data] path)")
    train.add_argument("--out", help="run folder (default runs/<model>-<config name>)")
    train.add_argument("--restart", action="store_true", help="ignore an existing run folder")
    train.set_defaults(func=_train)

    export = sub.add_parser("export", help="evaluate a run's best model and write a checkpoint")
    export.add_argument("run", help="training run folder (holds best/, documents.jsonl)")
    export.add_argument("--to", required=True, help="destination checkpoint folder")
    export.add_argument("--samples", type=int, default=3, help="samples per genre x mood")
    export.add_argument("--data", default="../shared/data", help="corpus (genre classifier)")
    export.set_defaults(func=_export)

    add_generator_commands(sub)
    add_serve_command(sub)
    add_play_command(sub)
    add_bot_command(sub)
    add_backup_command(sub)
    add_export_feedback_command(sub)
    add_data_command(sub)
    add_db_command(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    return args.func(args)
