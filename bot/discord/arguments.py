"""The options of a bot process (`python -m bot`, `talewright bot`): kept apart from
bot/discord/run.py so building the `talewright` parser imports no discord."""

from __future__ import annotations

import argparse
from typing import Any


def add_bot_arguments(parser: argparse.ArgumentParser) -> None:
    """--config, and the shards this process runs when the bot runs as several processes."""
    parser.add_argument("--config", help="config.toml (default: $TALEWRIGHT_CONFIG, ./config.toml)")
    parser.add_argument(
        "--shards",
        metavar="IDS",
        help="the shards this process runs, e.g. 0,1 or 4-7 (overrides [bot] shard_ids)",
    )
    parser.add_argument(
        "--shard-count",
        type=int,
        metavar="N",
        help="shards of the whole bot across its processes (overrides [bot] shard_count)",
    )


def shard_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The settings the shard options override (checked with the rest of the settings)."""
    shards: dict[str, Any] = {}
    if args.shards is not None:
        shards["shard_ids"] = args.shards
    if args.shard_count is not None:
        shards["shard_count"] = args.shard_count
    return {"bot": shards} if shards else {}
