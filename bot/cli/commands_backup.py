"""`talewright backup DEST`: a consistent copy of the story database, safe while the bot runs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.settings import SettingsError, load_settings


def _backup(args: argparse.Namespace) -> int:
    from storage.errors import StorageError
    from storage.sqlite.backup import backup

    try:
        source = Path(args.db) if args.db else load_settings(args.config).storage.path
        written = backup(source, args.destination)
    except (SettingsError, StorageError) as exc:
        print(exc, file=sys.stderr)
        return 2
    print(f"backed up {source} to {written}")
    return 0


def add_backup_command(sub: argparse._SubParsersAction) -> None:
    command = sub.add_parser(
        "backup", help="copy the story database (consistent while the bot is running)"
    )
    command.add_argument("destination", metavar="DEST", help="backup file, or a folder for it")
    command.add_argument(
        "--config", help="config.toml (default: $TALEWRIGHT_CONFIG, ./config.toml)"
    )
    command.add_argument("--db", help="database file (overrides [storage] path)")
    command.set_defaults(func=_backup)
