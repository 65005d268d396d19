"""Bring a PostgreSQL database's schema up to date with numbered SQL files.

Migration N is `migrations/NNNN_name.sql`; the table `talewright_schema` records each one
applied, with the SQLite schema version it matches (a `-- matches-sqlite-version: N` line),
so a copy between the backends can check that both hold the same schema. All pending migrations
and their records are applied in one transaction, under an advisory lock that makes a second
process opening the database at the same moment wait and then find the work done; a database
from a newer version of the code is refused with the error SQLite gives.
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources

import asyncpg

from storage.errors import SchemaTooNew
from storage.postgres.database import Database, one_value

_FILE_NAME = re.compile(r"^(\d{4})_(\w+)\.sql$")
_MATCHES = re.compile(r"^-- matches-sqlite-version: (\d+)$", re.MULTILINE)
MIGRATION_LOCK = 7_436_275_001
"""The advisory lock key that migrations hold (any constant no other code uses)."""

_VERSION_TABLE = """
    CREATE TABLE IF NOT EXISTS talewright_schema (
        version        INTEGER          PRIMARY KEY,
        name           TEXT             NOT NULL,
        sqlite_version INTEGER          NOT NULL,
        applied_at     DOUBLE PRECISION NOT NULL
    )
"""


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def sqlite_version(self) -> int:
        match = _MATCHES.search(self.sql)
        if match is None:
            raise RuntimeError(f"migration {self.version} lacks a -- matches-sqlite-version line")
        return int(match[1])


@functools.cache
def bundled_migrations() -> tuple[Migration, ...]:
    """The migrations shipped in `storage/postgres/migrations`, checked to be numbered 1..N."""
    folder = resources.files("storage.postgres") / "migrations"
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


async def schema_version(database: Database) -> int:
    """The last migration applied; 0 for a database Talewright never wrote."""

    async def read(conn: asyncpg.Connection) -> int:
        if await conn.fetchval("SELECT to_regclass('talewright_schema')") is None:
            return 0
        return int(await one_value(conn, "SELECT coalesce(max(version), 0) FROM talewright_schema"))

    return await database.read(read)


async def migrate(database: Database, migrations: Sequence[Migration] | None = None) -> int:
    """Apply the migrations newer than the database's version; returns the version reached."""
    known = bundled_migrations() if migrations is None else list(migrations)
    latest = known[-1].version if known else 0
    current = await schema_version(database)
    if current > latest:
        raise _too_new(database, current, latest)
    if current == latest:
        return current

    async def apply(conn: asyncpg.Connection) -> int:
        await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
        await conn.execute(_VERSION_TABLE)
        found = int(
            await one_value(conn, "SELECT coalesce(max(version), 0) FROM talewright_schema")
        )
        if found > latest:
            raise _too_new(database, found, latest)
        for migration in known:
            if migration.version > found:
                await conn.execute(migration.sql)
                await conn.execute(
                    "INSERT INTO talewright_schema (version, name, sqlite_version, applied_at) "
                    "VALUES ($1, $2, $3, $4)",
                    migration.version,
                    migration.name,
                    migration.sqlite_version,
                    time.time(),
                )
        return latest

    return await database.run(apply, isolation="read_committed")


def _too_new(database: Database, found: int, latest: int) -> SchemaTooNew:
    return SchemaTooNew(
        f"The story database {database.where} has schema version {found}, but this version of "
        f"Talewright only knows versions up to {latest}. Upgrade Talewright or use another "
        "database file."
    )
