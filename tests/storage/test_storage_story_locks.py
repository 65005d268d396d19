"""Per-story locks from storage (`Storage.story_locks`).

On both backends a held story is busy at once for every other caller of the same storage. On
PostgreSQL the lock also holds across storage objects (each stands in for a bot process), goes
with a process that is killed, survives a lost lock connection without raising, and a lock call
cancelled half-way leaves nothing locked.
"""

# ruff: noqa: ASYNC110 -- waiting for another process to let go is a poll by nature.

from __future__ import annotations

import asyncio
import os
import signal
import sys
import textwrap
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from pg_server import PgServer

from storage.postgres import PostgresStorage, open_postgres_storage
from storage.postgres.locks import STORY_LOCK_SPACE
from storage.repositories import Storage

ROOT = Path(__file__).resolve().parents[2]


async def test_a_held_story_is_busy_until_released(storage: Storage) -> None:
    locks = storage.story_locks
    assert await locks.try_acquire(1)
    assert not await locks.try_acquire(1)
    assert await locks.try_acquire(2)
    await locks.release(1)
    assert await locks.try_acquire(1)
    await locks.release(1)
    await locks.release(2)


@pytest.fixture
def pg_url(pg_server: PgServer) -> Iterator[str]:
    name = pg_server.create_database()
    try:
        yield pg_server.url(name)
    finally:
        pg_server.drop_database(name)


@pytest.fixture
async def two(pg_url: str) -> AsyncIterator[tuple[PostgresStorage, PostgresStorage]]:
    """Two storage objects on one database, as two bot processes would have."""
    first = await open_postgres_storage(pg_url, pool_size=2)
    second = await open_postgres_storage(pg_url, pool_size=2)
    try:
        yield first, second
    finally:
        await first.close()
        await second.close()


async def acquired_within(storage: Storage, story_id: int, seconds: float = 30.0) -> bool:
    """Whether the story could be taken before `seconds` passed (another holder letting go is
    noticed by the server, not announced)."""
    async with asyncio.timeout(seconds):
        while not await storage.story_locks.try_acquire(story_id):
            await asyncio.sleep(0.05)
    return True


async def test_a_story_held_by_one_process_is_busy_for_another(
    two: tuple[PostgresStorage, PostgresStorage],
) -> None:
    first, second = two
    assert await first.story_locks.try_acquire(7)
    assert not await second.story_locks.try_acquire(7)
    assert await second.story_locks.try_acquire(8)
    assert not await first.story_locks.try_acquire(8)
    await first.story_locks.release(7)
    assert await second.story_locks.try_acquire(7)


async def test_closing_a_storage_lets_its_stories_go(
    two: tuple[PostgresStorage, PostgresStorage], pg_url: str
) -> None:
    first, second = two
    third = await open_postgres_storage(pg_url, pool_size=1)
    assert await third.story_locks.try_acquire(3)
    await third.close()
    assert await first.story_locks.try_acquire(3)
    assert not await second.story_locks.try_acquire(3)


HOLDER = textwrap.dedent(
    """
    import asyncio, sys
    from storage.postgres import open_postgres_storage

    async def main():
        storage = await open_postgres_storage(sys.argv[1], pool_size=1)
        assert await storage.story_locks.try_acquire(int(sys.argv[2]))
        print("held", flush=True)
        await asyncio.sleep(3600)

    asyncio.run(main())
    """
)


async def test_a_killed_process_frees_its_stories(
    two: tuple[PostgresStorage, PostgresStorage], pg_url: str
) -> None:
    first, _ = two
    holder = await asyncio.create_subprocess_exec(
        sys.executable, "-c", HOLDER, pg_url, "11", cwd=ROOT, stdout=asyncio.subprocess.PIPE
    )
    try:
        assert holder.stdout is not None
        assert await holder.stdout.readline() == b"held\n"
        assert not await first.story_locks.try_acquire(11)
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        await holder.wait()
    assert await acquired_within(first, 11)


async def test_a_lost_lock_connection_neither_raises_nor_keeps_the_story(
    two: tuple[PostgresStorage, PostgresStorage], pg_server: PgServer, pg_url: str
) -> None:
    first, second = two
    assert await first.story_locks.try_acquire(5)
    conn = await asyncpg.connect(pg_url)
    try:
        ended = await conn.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_locks "
            "WHERE locktype = 'advisory' AND classid = $1 AND objid = 5",
            STORY_LOCK_SPACE,
        )
    finally:
        await conn.close()
    assert ended == 1
    assert await acquired_within(second, 5)
    await first.story_locks.release(5)
    await second.story_locks.release(5)
    assert await first.story_locks.try_acquire(5)


async def test_a_cancelled_lock_call_leaves_nothing_locked(
    two: tuple[PostgresStorage, PostgresStorage],
) -> None:
    first, second = two
    for story_id in range(20, 40):
        attempt = asyncio.ensure_future(first.story_locks.try_acquire(story_id))
        await asyncio.sleep(0)
        attempt.cancel()
        with pytest.raises(asyncio.CancelledError):
            await attempt
    await first.story_locks.settle()
    for story_id in range(20, 40):
        assert await second.story_locks.try_acquire(story_id)
        assert not await first.story_locks.try_acquire(story_id)
