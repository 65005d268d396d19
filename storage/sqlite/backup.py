"""Copies of the story database, and database files only their owner can read.

A copy is made with SQLite's online backup API in one step: it reads one snapshot, so it is
consistent while the bot keeps writing (in WAL mode a reader does not block the writer). The
copy is written next to its destination and renamed into place, so a crash leaves either no
copy or a whole one, never half of one.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path

from storage.errors import StorageError

PRIVATE_MODE = 0o600
"""Stories, names and character cards are nobody else's business on a shared machine."""


def create_private(path: str | os.PathLike[str]) -> None:
    """Create an empty database file readable by its owner only, unless it exists.

    SQLite gives the -wal and -shm files it makes later the main file's permissions.
    """
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_MODE))


def backup(source: str | os.PathLike[str], destination: str | os.PathLike[str]) -> Path:
    """Copy the database at `source` to `destination` (a file, or a folder to put it in),
    readable by its owner only; an existing file at the destination is replaced.

    Raises StorageError with a plain reason when either side cannot be used.
    """
    source_path = Path(source)
    target = Path(destination)
    if target.is_dir():
        target = target / source_path.name
    if not source_path.is_file():
        raise StorageError(f"There is no story database at {source_path} to back up.")
    if target.resolve() == source_path.resolve():
        raise StorageError("The backup must go to another file than the database itself.")
    if not target.parent.is_dir():
        raise StorageError(f"Cannot back up to {target}: the folder {target.parent} is missing.")
    partial = target.with_name(f"{target.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        create_private(partial)
        # A plain connection, not Database.open: a backup never migrates what it copies.
        reader = sqlite3.connect(source_path)
        try:
            writer = sqlite3.connect(partial)
            try:
                reader.backup(writer)
            finally:
                writer.close()
        finally:
            reader.close()
        os.replace(partial, target)
    except (OSError, sqlite3.Error) as exc:
        partial.unlink(missing_ok=True)
        raise StorageError(f"Could not back up {source_path} to {target}: {exc}.") from exc
    return target


def pre_migration_path(database: str | os.PathLike[str], version: int) -> Path:
    """Where the copy taken before migrating to `version` goes: `<db>.pre-<version>.bak`."""
    path = Path(database)
    return path.with_name(f"{path.name}.pre-{version:04d}.bak")
