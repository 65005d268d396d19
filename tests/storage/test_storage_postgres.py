"""PostgreSQL's own behaviour: migrations, concurrent writers, and what a bad URL or password
source tells a person."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from pg_server import PgServer
from storage_testing import Opener, query, user_turn

from storage.backends import open_storage_url, sqlite_url
from storage.errors import SchemaTooNew, StorageError
from storage.models import StorySettings
from storage.postgres import PostgresStorage, open_postgres_storage
from storage.postgres.database import Database, one_value
from storage.postgres.migrate import Migration, bundled_migrations, migrate, schema_version
from storage.postgres.url import PASSWORD_ENV, connect_options, display_url
from storage.sqlite.migrate import bundled_migrations as sqlite_migrations

pytestmark = pytest.mark.postgres_only


@pytest.fixture
def fresh_url(pg_server: PgServer) -> str:
    """A database of its own, empty of any schema (for migration tests)."""
    return pg_server.url(pg_server.create_database())


@pytest.fixture
async def bare(fresh_url: str) -> AsyncIterator[Database]:
    database = await Database.open(connect_options(fresh_url), display_url(fresh_url))
    try:
        yield database
    finally:
        await database.close()


async def test_the_schema_records_the_sqlite_version_it_matches(fresh_url: str) -> None:
    async with await open_postgres_storage(fresh_url) as storage:
        rows = await storage.database.fetch(
            "SELECT version, name, sqlite_version FROM talewright_schema ORDER BY version"
        )
    latest_sqlite = len(sqlite_migrations())
    assert [tuple(row) for row in rows][-1][2] == latest_sqlite
    assert [row["version"] for row in rows] == [m.version for m in bundled_migrations()]
    async with await open_postgres_storage(fresh_url) as again:  # a second open changes nothing
        assert await schema_version(again.database) == len(bundled_migrations())


async def test_a_newer_schema_is_refused_and_left_alone(fresh_url: str) -> None:
    async with await open_postgres_storage(fresh_url) as storage:
        await storage.database.write_count(
            "INSERT INTO talewright_schema (version, name, sqlite_version, applied_at) "
            "VALUES (99, 'future', 99, 0)"
        )
    with pytest.raises(SchemaTooNew, match="schema version 99"):
        await open_postgres_storage(fresh_url)


async def test_a_failing_migration_leaves_the_database_as_it_was(bare: Database) -> None:
    good = Migration(1, "good", "-- matches-sqlite-version: 1\nCREATE TABLE kept (x int);")
    broken = Migration(2, "broken", "-- matches-sqlite-version: 2\nCREATE TABLE nope (x nope);")
    with pytest.raises(StorageError):
        await migrate(bare, [good, broken])
    assert await bare.fetchval("SELECT to_regclass('kept')") is None
    assert await schema_version(bare) == 0


async def test_a_statement_expected_to_return_a_row_says_so_when_it_returns_none(
    bare: Database,
) -> None:
    async def read(conn: asyncpg.Connection) -> object:
        return await one_value(conn, "SELECT 1 WHERE false")

    with pytest.raises(StorageError, match="returned no row for: SELECT 1 WHERE false"):
        await bare.read(read)
    assert await bare.read(lambda conn: one_value(conn, "SELECT count(*) FROM pg_class")) > 0


async def test_two_processes_opening_a_new_database_at_once_both_succeed(fresh_url: str) -> None:
    first, second = await asyncio.gather(
        open_postgres_storage(fresh_url), open_postgres_storage(fresh_url)
    )
    try:
        assert await schema_version(first.database) == await schema_version(second.database)
    finally:
        await first.close()
        await second.close()


async def test_two_storages_writing_one_story_number_every_turn_once(open_again: Opener) -> None:
    """Two pools (as two bot processes would) add turns to one story at once: serializable
    transactions make the loser retry, so the slots are 0..n-1 with none lost or doubled."""
    first: PostgresStorage = await open_again()
    second: PostgresStorage = await open_again()
    try:
        story = await first.stories.create(
            guild_id=1,
            channel_id=2,
            owner_id=3,
            settings=StorySettings(title="Race", genre="mystery"),
        )
        adds = [
            (first if n % 2 else second).turns.add(story.id, user_turn(f"turn {n}"))
            for n in range(24)
        ]
        turns = await asyncio.gather(*adds)
        assert sorted(turn.slot for turn in turns) == list(range(24))
        assert await first.turns.count_accepted(story.id) == 24
    finally:
        await first.close()
        await second.close()


async def test_an_unreachable_server_is_one_clear_error(tmp_path: Path) -> None:
    url = f"postgresql://nobody@/talewright?host={tmp_path}&port=5999"
    with pytest.raises(StorageError, match="cannot be reached"):
        await open_postgres_storage(url)


async def test_a_missing_database_says_so(pg_server: PgServer) -> None:
    with pytest.raises(StorageError, match="does not exist"):
        await open_postgres_storage(pg_server.url("no_such_database"))


def test_the_password_comes_from_the_argument_then_the_file_then_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = "postgresql://talewright@db.example:5432/stories"
    secret = tmp_path / "password"
    secret.write_text("from-file\n")
    monkeypatch.setenv(PASSWORD_ENV, "from-env")
    assert connect_options(url, password="given", password_file=str(secret))["password"] == "given"
    assert connect_options(url, password_file=str(secret))["password"] == "from-file"
    assert connect_options(url)["password"] == "from-env"
    monkeypatch.delenv(PASSWORD_ENV)
    assert "password" not in connect_options(url)  # asyncpg then reads PGPASSWORD or .pgpass
    with pytest.raises(StorageError, match="cannot be read"):
        connect_options(url, password_file=str(tmp_path / "missing"))


def test_messages_never_show_a_password() -> None:
    shown = display_url("postgresql://ann:hunter2@db.example:5432/stories")
    assert "hunter2" not in shown and shown == "postgresql://ann:***@db.example:5432/stories"
    assert display_url("postgresql://ann@db/stories") == "postgresql://ann@db/stories"


async def test_both_backends_have_the_same_tables_and_columns(
    pg_server: PgServer, tmp_path: Path
) -> None:
    """A SQLite migration needs its PostgreSQL twin (and the other way round): this fails
    until both schemas name the same tables and columns."""
    async with await open_storage_url(sqlite_url(tmp_path / "t.db")) as lite:
        tables = await query(
            lite, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
        sqlite_schema = {
            table: {row[1] for row in await query(lite, f"PRAGMA table_info({table})")}
            for (table,) in tables
        }
    async with await open_storage_url(pg_server.url(pg_server.create_database())) as pg:
        rows = await query(
            pg,
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name <> 'talewright_schema'",
        )
    postgres_schema: dict[str, set[str]] = {}
    for table, column in rows:
        postgres_schema.setdefault(table, set()).add(column)
    assert postgres_schema == sqlite_schema
