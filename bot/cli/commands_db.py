"""`talewright db copy SRC_URL DEST_URL`: move every story between SQLite and PostgreSQL (or
between SQLite files), verified table by table; safe to run again."""

from __future__ import annotations

import argparse
import asyncio
import sys


def _copy(args: argparse.Namespace) -> int:
    from storage.backends import shown_url
    from storage.copy import copy_database
    from storage.errors import StorageError

    def progress(table: str, rows: int) -> None:
        print(f"  copied {table:<20} {rows:>10,} rows", flush=True)

    try:
        report = asyncio.run(
            copy_database(
                args.source,
                args.dest,
                replace=args.replace,
                batch_rows=args.batch_rows,
                source_password_file=args.source_password_file,
                dest_password_file=args.dest_password_file,
                progress=progress,
            )
        )
    except StorageError as exc:
        print(exc, file=sys.stderr)
        return 1
    for name, table in sorted(report.tables.items()):
        print(f"{name:<20} {table.rows:>10,} rows  sha256 {table.sha256[:16]}")
    dest = shown_url(args.dest)
    if not report.copied:
        print(f"{dest} already identical ({report.rows:,} rows); nothing written")
    else:
        print(
            f"copied {report.rows:,} rows in {report.seconds:.1f} s to {dest}"
            f"{' (its earlier data replaced)' if report.replaced else ''}; "
            "counts and checksums identical"
        )
    return 0


def add_db_command(sub: argparse._SubParsersAction) -> None:
    db = sub.add_parser("db", help="move the story database between backends")
    actions = db.add_subparsers(dest="db_command", required=True)
    copy = actions.add_parser(
        "copy",
        help="copy every table from SRC_URL to DEST_URL, checking counts and checksums",
        description="URLs are sqlite:///path/to/file.db or postgresql://user@host:port/db.",
    )
    copy.add_argument("source", metavar="SRC_URL")
    copy.add_argument("dest", metavar="DEST_URL")
    copy.add_argument(
        "--replace",
        action="store_true",
        help="delete what the destination holds when it differs from the source",
    )
    copy.add_argument("--batch-rows", type=int, default=5_000, help="rows per batch (5000)")
    copy.add_argument("--source-password-file", help="PostgreSQL password file for SRC_URL")
    copy.add_argument("--dest-password-file", help="PostgreSQL password file for DEST_URL")
    copy.set_defaults(func=_copy)
