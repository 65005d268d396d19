"""`talewright export-feedback OUT.jsonl`: the turns people reacted to with up or down, one JSON
line each (the story's kept turns before it, the turn, its up/down counts), for training a
preference signal. The reranker does not read these yet."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from dataclasses import asdict
from pathlib import Path

from bot.settings import SettingsError, load_settings

DEFAULT_CONTEXT_TURNS = 8


def _export_feedback(args: argparse.Namespace) -> int:
    from storage.backends import sqlite_path, sqlite_url
    from storage.errors import StorageError

    if args.context_turns < 0:
        print("--context-turns must be 0 or more", file=sys.stderr)
        return 2
    try:
        settings = None if args.db else load_settings(args.config)
        source = sqlite_url(args.db) if settings is None else settings.storage.storage_url()
        path = sqlite_path(source)
        if path is not None and not Path(path).is_file():
            print(f"no story database at {path}", file=sys.stderr)
            return 2
        count = asyncio.run(export_feedback(source, Path(args.out), args.context_turns))
    except (SettingsError, StorageError, OSError) as exc:
        print(exc, file=sys.stderr)
        return 2
    print(f"wrote {count} reacted turns to {args.out}")
    return 0


async def export_feedback(db: str | Path, out: Path, context_turns: int) -> int:
    """Write one line per reacted turn to `out` (replaced whole, never left half-written);
    `db` is a storage URL, or the path of a SQLite file."""
    from storage.backends import open_storage_url, sqlite_url

    async with await open_storage_url(db if isinstance(db, str) else sqlite_url(db)) as storage:
        examples = await storage.reactions.examples(context_turns)
    partial = out.with_name(out.name + ".partial")
    with partial.open("w", encoding="utf-8") as file:
        for example in examples:
            file.write(json.dumps(asdict(example), ensure_ascii=False) + "\n")
    partial.replace(out)
    return len(examples)


def add_export_feedback_command(sub: argparse._SubParsersAction) -> None:
    command = sub.add_parser(
        "export-feedback", help="write the turns people reacted to (👍/👎) as JSON lines"
    )
    command.add_argument("out", metavar="OUT.jsonl", help="file to write")
    command.add_argument(
        "--config", help="config.toml (default: $TALEWRIGHT_CONFIG, ./config.toml)"
    )
    command.add_argument("--db", help="database file (overrides [storage] path)")
    command.add_argument(
        "--context-turns",
        type=int,
        default=DEFAULT_CONTEXT_TURNS,
        help=f"kept turns before each turn to include (default {DEFAULT_CONTEXT_TURNS})",
    )
    command.set_defaults(func=_export_feedback)
