"""Per-story locks across every bot process on one PostgreSQL database: session advisory locks.

Each storage object keeps one connection of its own for its locks (apart from the pool, which a
long turn holding a lock must never starve); `pg_try_advisory_lock` on it either
takes the story's lock at once or reports it held by another process. PostgreSQL drops a
session's advisory locks when its connection ends, so a process killed mid-turn frees its
stories as soon as the server notices the closed socket. Advisory locks are reentrant within a
session, so one process's coroutines are kept apart by an in-process set first (two of them
would otherwise both pass as the same session). A lock call cancelled half-way has its outcome
undone in the background, so a cancelled request never leaves a story locked.

Keys are the two-int4 form (STORY_LOCK_SPACE, story id), whose key space is apart from the
single-bigint form (the migration lock); an id past 2**31 wraps, which at worst makes two
stories share a lock (a false "busy"), never lets two writers into one story.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from typing import Any

import asyncpg

from storage.locks import InProcessStoryLocks
from storage.postgres.database import translate

log = logging.getLogger("talewright.storage")

STORY_LOCK_SPACE = 0x5457
"""The first key of every story lock ("TW")."""
_LOST = (asyncpg.InterfaceError, asyncpg.PostgresConnectionError, OSError)


def lock_key(story_id: int) -> tuple[int, int]:
    return STORY_LOCK_SPACE, story_id % 2**31


class PostgresStoryLocks:
    """Advisory story locks over one connection opened with the asyncpg.connect keyword
    arguments `connect` (`where` names the database in messages)."""

    def __init__(self, connect: Mapping[str, Any], where: str) -> None:
        self._connect = dict(connect)
        self.where = where
        self._local = InProcessStoryLocks()
        self._conn: asyncpg.Connection | None = None
        self._io = asyncio.Lock()
        self._pending: set[asyncio.Future[Any]] = set()

    async def try_acquire(self, story_id: int) -> bool:
        if not self._local.claim(story_id):
            return False
        attempt = asyncio.ensure_future(self._call("SELECT pg_try_advisory_lock($1, $2)", story_id))
        self._keep(attempt)
        try:
            held = bool(await asyncio.shield(attempt))
        except asyncio.CancelledError:
            attempt.add_done_callback(lambda done: self._abandon(done, story_id))
            raise
        except BaseException:
            self._local.drop(story_id)
            raise
        if not held:
            self._local.drop(story_id)
        return held

    async def release(self, story_id: int) -> None:
        unlock = asyncio.ensure_future(self._unlock(story_id))
        self._keep(unlock)
        await asyncio.shield(unlock)

    async def settle(self) -> None:
        """Wait until lock calls whose callers went away, and the unlocks they need, are done."""
        while self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)

    async def close(self) -> None:
        """Let unfinished lock calls end, then close the connection (its locks go with it)."""
        await self.settle()
        async with self._io:
            await self._drop_connection()

    async def _unlock(self, story_id: int) -> None:
        try:
            await self._call("SELECT pg_advisory_unlock($1, $2)", story_id)
        except Exception as exc:
            # The connection went, and its locks with it; nothing is left held.
            log.info("story %s: unlock not needed after a lost lock connection: %s", story_id, exc)
        finally:
            self._local.drop(story_id)

    def _abandon(self, attempt: asyncio.Future[object], story_id: int) -> None:
        """The caller of a lock call went away: undo whatever the call did."""
        if attempt.cancelled() or attempt.exception() is not None or not attempt.result():
            self._local.drop(story_id)
        else:
            self._keep(asyncio.ensure_future(self._unlock(story_id)))

    def _keep(self, task: asyncio.Future[Any]) -> None:
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _call(self, sql: str, story_id: int) -> object:
        async with self._io:
            conn = await self._connection()
            try:
                return await conn.fetchval(sql, *lock_key(story_id))
            except _LOST as exc:
                await self._drop_connection()
                raise translate(exc, self.where) from exc
            except asyncpg.PostgresError as exc:
                raise translate(exc, self.where) from exc

    async def _connection(self) -> asyncpg.Connection:
        if self._conn is not None and self._conn.is_closed():
            await self._drop_connection()
        if self._conn is None:
            try:
                conn: asyncpg.Connection = await asyncpg.connect(**self._connect)
            except (*_LOST, TimeoutError, asyncpg.PostgresError) as exc:
                raise translate(exc, self.where) from exc
            self._conn = conn
            return conn
        return self._conn

    async def _drop_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.close(timeout=5)
