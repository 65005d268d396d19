"""`talewright bot`: run the Discord bot (see bot/__main__.py)."""

from __future__ import annotations

import argparse


def _bot(args: argparse.Namespace) -> int:
    from bot.__main__ import run

    return run(args.config)


def add_bot_command(sub: argparse._SubParsersAction) -> None:
    bot = sub.add_parser("bot", help="run the Discord bot")
    bot.add_argument("--config", help="config.toml (default: $TALEWRIGHT_CONFIG, ./config.toml)")
    bot.set_defaults(func=_bot)
