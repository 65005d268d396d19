"""Connection setup, migrations and the schema-version guard."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from storage.errors import SchemaTooNew, StorageError
from storage.models import StorySettings
from storage.sqlite import SqliteStorage, open_storage
from storage.sqlite.database import Database
from storage.sqlite.migrate import Migration, bundled_migrations, migrate, statements
from storage.sqlite.query import execute, fetch_value

# SQLite itself (its files, locks and query plans): PostgreSQL has none of these.
pytestmark = pytest.mark.sqlite_only

LATEST = len(bundled_migrations())


async def pragma(storage: SqliteStorage, name: str) -> object:
    async with storage.database.read() as conn:
        rows = list(await conn.execute_fetchall(f"PRAGMA {name}"))
    return rows[0][0]


def tables(path: Path) -> set[str]:
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    finally:
        conn.close()
    return {name for (name,) in rows} - {"sqlite_sequence"}


def user_version(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("PRAGMA user_version").fetchone()[0]
    finally:
        conn.close()


def test_bundled_migrations_are_numbered_from_one() -> None:
    versions = [migration.version for migration in bundled_migrations()]
    assert versions == list(range(1, LATEST + 1))
    assert bundled_migrations()[0].name == "initial"


async def test_migrations_apply_from_zero(db_path: Path) -> None:
    async with await open_storage(db_path):
        pass
    assert user_version(db_path) == LATEST
    assert {
        "guild_settings",
        "stories",
        "participants",
        "turns",
        "characters",
        "story_characters",
        "style_profiles",
        "feedback",
        "moderation_events",
    } <= tables(db_path)


async def test_reopening_keeps_data_and_migrates_nothing(db_path: Path) -> None:
    async with await open_storage(db_path) as storage:
        created = await storage.stories.create(
            guild_id=1,
            channel_id=2,
            owner_id=3,
            settings=StorySettings(title="Kept", genre="mystery"),
        )
    async with await open_storage(db_path) as storage:
        assert await storage.stories.get(created.id) == created
        assert await pragma(storage, "user_version") == LATEST


async def test_connection_uses_wal_foreign_keys_and_busy_timeout(db_path: Path) -> None:
    async with await open_storage(db_path, busy_timeout_s=0.25) as storage:
        assert await pragma(storage, "journal_mode") == "wal"
        assert await pragma(storage, "foreign_keys") == 1
        assert await pragma(storage, "busy_timeout") == 250


async def test_execute_counts_changed_rows_and_the_schema_has_no_triggers(db_path: Path) -> None:
    """`execute` counts changes from the connection's running total, which would include rows a
    trigger changes: the schema must stay without triggers for its counts to hold."""
    async with await open_storage(db_path) as storage, storage.database.read() as conn:
        triggers = await fetch_value(
            conn, "SELECT count(*) FROM sqlite_master WHERE type = 'trigger'"
        )
        assert triggers == 0
        await execute(conn, "CREATE TEMP TABLE t (x INTEGER PRIMARY KEY)")
        assert await execute(conn, "INSERT INTO t VALUES (1), (2), (3)") == 3
        assert await execute(conn, "UPDATE t SET x = x + 10 WHERE x > 1") == 2
        assert await execute(conn, "INSERT INTO t VALUES (1) ON CONFLICT DO NOTHING") == 0
        assert await execute(conn, "DELETE FROM t") == 3


async def test_memory_database_works_for_quick_checks() -> None:
    async with await open_storage(":memory:") as storage:
        created = await storage.stories.create(
            guild_id=1,
            channel_id=2,
            owner_id=3,
            settings=StorySettings(title="Ephemeral", genre="poetry"),
        )
        assert await storage.stories.get(created.id) == created


async def test_newer_schema_is_refused_and_left_untouched(db_path: Path) -> None:
    conn = sqlite3.connect(db_path)
    conn.execute(f"PRAGMA user_version = {LATEST + 5}")
    conn.close()

    with pytest.raises(SchemaTooNew) as raised:
        await open_storage(db_path)

    message = str(raised.value)
    assert str(LATEST + 5) in message and "newer" in message.lower()
    assert user_version(db_path) == LATEST + 5
    assert tables(db_path) == set()


async def test_all_pending_migrations_share_one_transaction(db_path: Path) -> None:
    good = Migration(1, "good", "CREATE TABLE first (x INTEGER);")
    broken = Migration(2, "broken", "CREATE TABLE second (x INTEGER); CREATE TABLE (;")
    database = await Database.open(db_path)
    try:
        with pytest.raises(StorageError):
            await migrate(database, [good, broken])
    finally:
        await database.close()
    assert user_version(db_path) == 0
    assert tables(db_path) == set()


async def test_only_newer_migrations_run(db_path: Path) -> None:
    # Running the first migration twice would fail: its table already exists.
    first = Migration(1, "first", "CREATE TABLE first (x INTEGER);")
    second = Migration(2, "second", "CREATE TABLE second (x INTEGER);")
    database = await Database.open(db_path)
    try:
        assert await migrate(database, [first]) == 1
        assert await migrate(database, [first, second]) == 2
        assert await migrate(database, [first, second]) == 2
    finally:
        await database.close()
    assert tables(db_path) == {"first", "second"}


def test_statements_split_on_real_semicolons_only() -> None:
    script = """
        -- a comment; with a semicolon
        CREATE TABLE t (x TEXT DEFAULT 'a;b');;
        CREATE TRIGGER t_copy AFTER INSERT ON t BEGIN
            INSERT INTO t (x) SELECT 'never;' WHERE 0;
        END;
        INSERT INTO t (x) VALUES (';');
        -- a last comment
    """
    parts = list(statements(script))
    assert len(parts) == 4
    assert parts[0].strip().endswith("DEFAULT 'a;b');")
    assert parts[1].strip().startswith("CREATE TRIGGER") and parts[1].rstrip().endswith("END;")
    assert parts[3].strip() == "-- a last comment"
    conn = sqlite3.connect(":memory:")
    try:
        for part in parts:
            conn.execute(part)
        assert conn.execute("SELECT x FROM t").fetchall() == [(";",)]
    finally:
        conn.close()


async def test_an_unfinished_statement_fails_the_migration(db_path: Path) -> None:
    broken = Migration(1, "broken", "CREATE TABLE t (x TEXT); INSERT INTO t VALUES ('open")
    database = await Database.open(db_path)
    try:
        with pytest.raises(StorageError, match="unrecognized token"):
            await migrate(database, [broken])
    finally:
        await database.close()
    assert tables(db_path) == set()


async def test_closed_storage_says_so(db_path: Path) -> None:
    storage = await open_storage(db_path)
    await storage.close()
    await storage.close()
    with pytest.raises(StorageError, match="closed"):
        await storage.stories.get(1)


async def test_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match=r"folder .* does not exist"):
        await open_storage(tmp_path / "no-such-folder" / "talewright.db")


async def test_writes_are_committed_before_the_method_returns(
    storage: SqliteStorage, db_path: Path
) -> None:
    created = await storage.stories.create(
        guild_id=1,
        channel_id=2,
        owner_id=3,
        settings=StorySettings(title="Seen elsewhere", genre="mystery"),
    )
    other = sqlite3.connect(db_path)
    try:
        row = other.execute("SELECT title FROM stories WHERE id = ?", (created.id,)).fetchone()
    finally:
        other.close()
    assert row == ("Seen elsewhere",)
