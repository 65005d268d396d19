"""A locked, read-only or corrupt database gives a clear error and never a partial write."""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from storage_testing import model_turn

from storage.errors import DatabaseCorrupt, DatabaseLocked, DatabaseReadOnly, StorageError
from storage.models import StorySettings
from storage.sqlite import open_storage
from storage.sqlite.migrate import bundled_migrations

# SQLite itself (its files, locks and query plans): PostgreSQL has none of these.
pytestmark = pytest.mark.sqlite_only

NOBODY = 65534


def count_rows(path: Path, table: str) -> int:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    finally:
        conn.close()


def chmod(mode: int, *paths: Path) -> None:
    for path in paths:
        path.chmod(mode)


def damage_after_first_page(path: Path) -> None:
    """Overwrite every page but the header page with noise (the schema spills past it)."""
    data = bytearray(path.read_bytes())
    page_size = int.from_bytes(data[16:18], "big")
    assert len(data) > 2 * page_size
    data[page_size:] = random.Random(99).randbytes(len(data) - page_size)
    path.write_bytes(bytes(data))


def assert_sentence(error: StorageError) -> None:
    message = str(error)
    assert message[0].isupper() and message.endswith(".") and len(message.split()) > 6


@pytest.fixture
def permission_bound_dir(tmp_path: Path) -> Iterator[Path]:
    """A folder where permission bits bind this test.

    Root ignores them, so under root (as in many containers) the test body runs with the
    effective user 'nobody', in a folder that user owns.
    """
    if os.geteuid() != 0:
        try:
            yield tmp_path
        finally:
            tmp_path.chmod(0o755)
        return
    bundled_migrations()  # read (and cache) the migration files while they are readable
    base = Path(tempfile.mkdtemp(prefix="talewright-storage-"))
    base.chmod(0o755)
    folder = base / "db"
    folder.mkdir()
    os.chown(folder, NOBODY, NOBODY)
    os.setegid(NOBODY)
    os.seteuid(NOBODY)
    try:
        yield folder
    finally:
        os.seteuid(0)
        os.setegid(0)
        shutil.rmtree(base)


async def test_locked_database_raises_and_writes_nothing(db_path: Path) -> None:
    async with await open_storage(db_path, busy_timeout_s=0.1) as storage:
        story = await storage.stories.create(
            guild_id=1,
            channel_id=2,
            owner_id=3,
            settings=StorySettings(title="Locked", genre="mystery"),
        )
        first = await storage.turns.add(story.id, model_turn("A"))
        second = await storage.turns.add_alternative(story.id, first.slot, model_turn("B"))

        other = sqlite3.connect(db_path, isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")
        try:
            with pytest.raises(DatabaseLocked) as raised:
                await storage.turns.accept(second.id, by=3)
            with pytest.raises(DatabaseLocked):
                await storage.stories.create(
                    guild_id=1,
                    channel_id=9,
                    owner_id=3,
                    settings=StorySettings(title="Blocked", genre="mystery"),
                )
            # WAL readers are not blocked by the writer.
            pending = await storage.turns.pending_for_story(story.id)
            assert [turn.state for turn in pending] == ["pending", "pending"]
        finally:
            other.rollback()
            other.close()

        assert "locked" in str(raised.value) and "nothing was saved" in str(raised.value)
        assert_sentence(raised.value)
        assert [t.state for t in await storage.turns.list_alternatives(story.id, 0)] == [
            "pending",
            "pending",
        ]
        assert len(await storage.stories.list_for_guild(1)) == 1
        assert (await storage.turns.accept(second.id, by=3)).state == "accepted"


async def test_read_only_file_refuses_writes(permission_bound_dir: Path) -> None:
    path = permission_bound_dir / "talewright.db"
    async with await open_storage(path) as storage:
        story = await storage.stories.create(
            guild_id=1,
            channel_id=2,
            owner_id=3,
            settings=StorySettings(title="Read me", genre="mystery"),
        )
    chmod(0o444, path)
    try:
        async with await open_storage(path) as storage:
            assert await storage.stories.get(story.id) == story
            with pytest.raises(DatabaseReadOnly) as raised:
                await storage.turns.add(story.id, model_turn("Never stored"))
            with pytest.raises(DatabaseReadOnly):
                await storage.stories.set_status(story.id, "ended")
    finally:
        chmod(0o644, path)
    assert "read-only" in str(raised.value)
    assert_sentence(raised.value)
    async with await open_storage(path) as storage:
        assert await storage.stories.get(story.id) == story
        assert await storage.turns.count_accepted(story.id) == 0
        assert await storage.turns.pending_for_story(story.id) == []


async def test_read_only_file_and_folder_refuse_writes(permission_bound_dir: Path) -> None:
    path = permission_bound_dir / "talewright.db"
    async with await open_storage(path) as storage:
        await storage.stories.create(
            guild_id=1,
            channel_id=2,
            owner_id=3,
            settings=StorySettings(title="Frozen", genre="mystery"),
        )
    assert sorted(os.listdir(permission_bound_dir)) == ["talewright.db"]
    chmod(0o444, path)
    chmod(0o555, permission_bound_dir)
    try:
        with pytest.raises(DatabaseReadOnly) as raised:
            async with await open_storage(path) as storage:
                await storage.stories.create(
                    guild_id=1,
                    channel_id=5,
                    owner_id=3,
                    settings=StorySettings(title="Never", genre="mystery"),
                )
    finally:
        chmod(0o755, permission_bound_dir)
        chmod(0o644, path)
    assert_sentence(raised.value)
    assert count_rows(path, "stories") == 1


async def test_new_database_in_read_only_folder(permission_bound_dir: Path) -> None:
    path = permission_bound_dir / "new.db"
    chmod(0o555, permission_bound_dir)
    try:
        with pytest.raises(DatabaseReadOnly, match="cannot be created"):
            await open_storage(path)
    finally:
        chmod(0o755, permission_bound_dir)
    assert not path.exists()


async def test_random_bytes_are_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "noise.db"
    noise = random.Random(1234).randbytes(16 * 1024)
    path.write_bytes(noise)
    with pytest.raises(DatabaseCorrupt) as raised:
        await open_storage(path)
    assert "damaged or is not a database" in str(raised.value)
    assert_sentence(raised.value)
    assert path.read_bytes() == noise


async def test_damaged_pages_are_reported_as_corrupt(db_path: Path) -> None:
    async with await open_storage(db_path) as storage:
        story = await storage.stories.create(
            guild_id=1,
            channel_id=2,
            owner_id=3,
            settings=StorySettings(title="Soon damaged", genre="mystery"),
        )
    damage_after_first_page(db_path)

    with pytest.raises(DatabaseCorrupt):
        async with await open_storage(db_path) as storage:
            await storage.stories.get(story.id)


async def test_read_modify_write_holds_the_write_lock(db_path: Path) -> None:
    """Nobody can commit between a transaction's read and its write, so no update is lost."""
    async with await open_storage(db_path) as storage:
        await storage.styles.add_vectors(7, [[1.0]], {"n": 1})
        other = sqlite3.connect(db_path, timeout=0.05, isolation_level=None)
        outcomes: list[str] = []

        def meddle(stats: dict[str, object], count: int) -> dict[str, object]:
            try:
                other.execute("UPDATE style_profiles SET count = count + 100")
                outcomes.append("other writer got in")
            except sqlite3.OperationalError as exc:
                outcomes.append(str(exc))
            return {"n": 2}

        try:
            profile = await storage.styles.add_vectors(7, [[3.0]], meddle)
        finally:
            other.close()
    assert outcomes == ["database is locked"]
    assert (profile.count, profile.vector, profile.stats) == (2, (2.0,), {"n": 2})


async def test_a_cancelled_write_rolls_back_and_storage_stays_usable(db_path: Path) -> None:
    async with await open_storage(db_path) as storage:
        before = await storage.styles.add_vectors(7, [[1.0]])

        def cancel_mid_transaction(stats: dict[str, object], count: int) -> dict[str, object]:
            task = asyncio.current_task()
            assert task is not None
            task.cancel()  # delivered at the transaction's next await
            return stats

        with pytest.raises(asyncio.CancelledError):
            await asyncio.create_task(
                storage.styles.add_vectors(7, [[9.0]], cancel_mid_transaction)
            )
        assert await storage.styles.get(7) == before
        after = await storage.styles.add_vectors(7, [[3.0]])
        assert (after.count, after.vector) == (2, (2.0,))


async def test_a_one_statement_write_waits_for_another_writer_and_sees_its_commit(
    db_path: Path,
) -> None:
    """`turns.add` is one statement without BEGIN IMMEDIATE: it must still wait out another
    program's write lock (within the busy timeout) and number its slot after that program's
    committed turn, never from a stale snapshot."""
    async with await open_storage(db_path, busy_timeout_s=5.0) as storage:
        story = await storage.stories.create(
            guild_id=1,
            channel_id=2,
            owner_id=3,
            settings=StorySettings(title="Shared", genre="mystery"),
        )
        await storage.turns.add(story.id, model_turn("A"))
        other = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)
        other.execute("BEGIN IMMEDIATE")
        other.execute(
            "INSERT INTO turns (story_id, slot, alt_index, author_kind, kind, text, state, "
            "created_at, shown_seq) VALUES (?, 1, 0, 'user', 'narration', 'B', 'accepted', 0, 1)",
            (story.id,),
        )
        adding = asyncio.create_task(storage.turns.add(story.id, model_turn("C")))
        await asyncio.sleep(0.3)
        assert not adding.done()  # waiting for the lock, not failed
        other.execute("COMMIT")
        other.close()
        added = await asyncio.wait_for(adding, 5.0)
    assert (added.slot, added.alt_index, added.shown_seq) == (2, 0, 1)
