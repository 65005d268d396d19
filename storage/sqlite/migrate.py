"""Bring a database's schema up to date with numbered SQL files.

Migration N is `migrations/NNNN_name.sql`; `PRAGMA user_version` records the last one applied.
All pending migrations and the new version are applied in one transaction, so a failure leaves
the database exactly as it was, and a database from a newer version of the code is refused
rather than written with a schema that could lose its data. Before a database that holds a
schema is migrated, a copy of it is taken to `<db>.pre-<version>.bak`: a migration that
commits can still be wrong about the data, and then the copy is the way back.
"""

from __future__ import annotations

import asyncio
import functools
import os
import re
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from importlib import resources

from storage.errors import SchemaTooNew
from storage.sqlite.backup import backup, pre_migration_path
from storage.sqlite.database import Database
from storage.sqlite.query import fetch_value

_FILE_NAME = re.compile(r"^(\d{4})_(\w+)\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


@functools.cache
def bundled_migrations() -> tuple[Migration, ...]:
    """The migrations shipped in `storage/sqlite/migrations`, checked to be numbered 1..N.

    They ship with the code, so they are read once per process.
    """
    folder = resources.files("storage.sqlite") / "migrations"
    found = []
    for entry in folder.iterdir():
        match = _FILE_NAME.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda migration: migration.version)
    versions = [migration.version for migration in found]
    if versions != list(range(1, len(found) + 1)):
        raise RuntimeError(f"migration files must be numbered 1..N without gaps, got {versions}")
    return tuple(found)


def statements(sql: str) -> Iterator[str]:
    """Split a script into statements; semicolons inside strings, comments or triggers stay put.

    A tail without a closing semicolon (a last comment, or a broken statement) is yielded too,
    so SQLite executes it as a no-op or rejects it, rolling back the migration.
    """
    *pieces, tail = sql.split(";")
    pending = ""
    for piece in pieces:
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \t\r\n;"):
                yield pending
            pending = ""
    pending += tail
    if pending.strip():
        yield pending


async def schema_version(database: Database) -> int:
    async with database.read() as conn:
        return int(await fetch_value(conn, "PRAGMA user_version"))


async def migrate(database: Database, migrations: Sequence[Migration] | None = None) -> int:
    """Apply the migrations newer than the database's version; returns the version reached."""
    known = bundled_migrations() if migrations is None else list(migrations)
    latest = known[-1].version if known else 0
    current = await schema_version(database)
    if current > latest:
        raise _too_new(database, current, latest)
    if current == latest:
        return current
    if current > 0:
        await asyncio.to_thread(_back_up_before, database.path, latest)
    async with database.transaction() as conn:
        # Another process may have migrated while this one waited for the write lock.
        current = int(await fetch_value(conn, "PRAGMA user_version"))
        if current > latest:
            raise _too_new(database, current, latest)
        for migration in known:
            if migration.version > current:
                for statement in statements(migration.sql):
                    await conn.execute(statement)
        await conn.execute(f"PRAGMA user_version = {latest:d}")
    return latest


def _back_up_before(path: str, version: int) -> None:
    """Copy the database file before migrating it to `version` (a memory database has none)."""
    if os.path.isfile(path):
        backup(path, pre_migration_path(path, version))


def _too_new(database: Database, found: int, latest: int) -> SchemaTooNew:
    return SchemaTooNew(
        f"The story database {database.path} has schema version {found}, but this version of "
        f"Talewright only knows versions up to {latest}. Upgrade Talewright or use another "
        "database file."
    )
