"""`talewright bot`: run the Discord bot (bot/discord/run.py)."""

from __future__ import annotations

import argparse

from bot.discord.arguments import add_bot_arguments, shard_overrides


def _bot(args: argparse.Namespace) -> int:
    from bot.discord.run import run

    return run(args.config, shard_overrides(args))


def add_bot_command(sub: argparse._SubParsersAction) -> None:
    bot = sub.add_parser("bot", help="run the Discord bot")
    add_bot_arguments(bot)
    bot.set_defaults(func=_bot)
