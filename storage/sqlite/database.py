"""One SQLite connection: its setup, its transactions and the translation of its errors.

aiosqlite runs the connection on its own thread; an asyncio lock makes each transaction (and
each read) have the connection to itself, so one coroutine never sees another's uncommitted
writes. Write transactions begin IMMEDIATE: they take SQLite's write lock before their first
read (waiting up to the busy timeout), so either nothing is written and DatabaseLocked is
raised, or no other program can commit between the transaction's reads and its writes.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

import aiosqlite

from storage.errors import (
    Conflict,
    DatabaseCorrupt,
    DatabaseLocked,
    DatabaseReadOnly,
    NotFound,
    StorageError,
)
from storage.sqlite.backup import create_private

Clock = Callable[[], float]
T = TypeVar("T")

DEFAULT_BUSY_TIMEOUT_S = 5.0


class Database:
    """An open SQLite database; build it with `await Database.open(path)`."""

    def __init__(self, connection: aiosqlite.Connection, path: str, clock: Clock) -> None:
        self._connection: aiosqlite.Connection | None = connection
        self._lock = asyncio.Lock()
        self.path = path
        self.clock = clock

    @classmethod
    async def open(
        cls,
        path: str | os.PathLike[str],
        *,
        busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S,
        clock: Clock = time.time,
    ) -> Database:
        """Connect and set up WAL, foreign keys and the busy timeout; a new database file is
        readable by its owner only (see backup.create_private)."""
        location = os.fspath(path)
        _check_location(location)
        if location not in ("", ":memory:") and not location.startswith("file:"):
            create_private(location)
        try:
            connection = await aiosqlite.connect(
                location, timeout=busy_timeout_s, isolation_level=None
            )
        except sqlite3.Error as exc:
            raise translate(exc, location) from exc
        connection.row_factory = sqlite3.Row
        database = cls(connection, location, clock)
        try:
            async with database.read() as conn:
                await conn.execute_fetchall("PRAGMA journal_mode = WAL")
                await conn.execute_fetchall("PRAGMA synchronous = NORMAL")
                await conn.execute_fetchall("PRAGMA foreign_keys = ON")
        except BaseException:
            await database.close()
            raise
        return database

    async def close(self) -> None:
        """Close the connection; safe to call twice."""
        connection, self._connection = self._connection, None
        if connection is not None:
            async with self._lock:
                await connection.close()

    def now(self) -> float:
        return self.clock()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """A write transaction: committed when the block ends, rolled back if it raises."""
        async with self._lock:
            conn = self._require_open()
            try:
                await conn.execute("BEGIN IMMEDIATE")
                yield conn
                await conn.execute("COMMIT")
            except BaseException as exc:
                # Shielded, and queued behind any statement still running on aiosqlite's thread
                # (a cancelled BEGIN or COMMIT still runs), so the next transaction starts clean.
                await asyncio.shield(self._rollback(conn))
                if isinstance(exc, sqlite3.Error):
                    raise translate(exc, self.path) from exc
                raise

    @asynccontextmanager
    async def read(self) -> AsyncIterator[aiosqlite.Connection]:
        """The connection for reads that need no transaction of their own."""
        async with self._exclusive() as conn:
            yield conn

    @asynccontextmanager
    async def statement(self) -> AsyncIterator[aiosqlite.Connection]:
        """The connection for one write statement, without BEGIN and COMMIT around it.

        SQLite runs a lone statement as its own transaction: all of it or none of it is written.
        Started outside a transaction, its write lock waits out the busy timeout just as
        BEGIN IMMEDIATE does, and it reads the latest committed data; one round trip to
        aiosqlite's thread instead of three.
        """
        async with self._exclusive() as conn:
            yield conn

    async def run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work` with the connection on aiosqlite's thread: any number of statements in
        one round trip, where each statement through aiosqlite would be one. Each statement is
        its own transaction; use `run_in_transaction` when they must agree or stand together."""
        async with self._exclusive() as conn:
            return await _on_thread(conn, work)

    async def run_in_transaction(
        self, work: Callable[[sqlite3.Connection], T], *, write: bool = True
    ) -> T:
        """Run `work` in one transaction, in one round trip: committed when it returns, rolled
        back if it raises.

        A write transaction begins IMMEDIATE, as `transaction` does. A read-only one (`write`
        False) sees one snapshot of the database, even while another program commits. The
        whole transaction is one item on aiosqlite's queue, so a caller cancelled while it
        runs leaves it to finish or roll back before the next statement starts.
        """

        def transaction(connection: sqlite3.Connection) -> T:
            connection.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                result = work(connection)
                connection.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    connection.execute("ROLLBACK")
                raise
            return result

        async with self._exclusive() as conn:
            return await _on_thread(conn, transaction)

    @asynccontextmanager
    async def _exclusive(self) -> AsyncIterator[aiosqlite.Connection]:
        async with self._lock:
            conn = self._require_open()
            try:
                yield conn
            except sqlite3.Error as exc:
                raise translate(exc, self.path) from exc

    def _require_open(self) -> aiosqlite.Connection:
        if self._connection is None:
            raise StorageError("The story database is closed.")
        return self._connection

    async def _rollback(self, conn: aiosqlite.Connection) -> None:
        # There may be no transaction left to roll back (BEGIN failed, or SQLite rolled back by
        # itself after a full disk or an I/O error); the original error is the one to report.
        with contextlib.suppress(sqlite3.Error):
            await conn.execute("ROLLBACK")


async def _on_thread(
    connection: aiosqlite.Connection, work: Callable[[sqlite3.Connection], T]
) -> T:
    """Call `work` with the sqlite3 connection, on the thread that owns it.

    aiosqlite has no public call for this. `_execute` queues a function on its thread, and every
    public method of aiosqlite is built on it (unchanged from 0.17 to 0.22). pyproject.toml
    caps the version, and tests/storage/test_storage_one_trip.py runs work through it.
    """
    return await connection._execute(lambda: work(connection._conn))


def _check_location(location: str) -> None:
    """Explain the two usual reasons SQLite would give only 'unable to open database file'."""
    if location in ("", ":memory:"):
        return
    folder = os.path.dirname(os.path.abspath(location))
    if not os.path.isdir(folder):
        raise StorageError(
            f"The story database {location} cannot be opened: the folder {folder} does not exist."
        )
    # Effective ids are what open() itself checks.
    effective = os.access in os.supports_effective_ids
    if not os.path.exists(location) and not os.access(folder, os.W_OK, effective_ids=effective):
        raise DatabaseReadOnly(
            f"The story database {location} cannot be created: the folder {folder} is read-only."
        )


def translate(exc: sqlite3.Error, path: str) -> StorageError:
    """The StorageError that tells a person what went wrong with the database at `path`."""
    code = getattr(exc, "sqlite_errorcode", None)
    name = getattr(exc, "sqlite_errorname", "") or ""
    primary = code & 0xFF if isinstance(code, int) else None
    where = f"The story database {path}"
    if primary in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        return DatabaseLocked(
            f"{where} is locked by another program; nothing was saved. Try again in a moment."
        )
    if primary == sqlite3.SQLITE_READONLY:
        return DatabaseReadOnly(
            f"{where} cannot be written (read-only file or folder); nothing was saved. "
            "Check the permissions of the file and its folder."
        )
    if primary in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB):
        return DatabaseCorrupt(
            f"{where} is damaged or is not a database ({exc}). "
            "Restore it from a backup or point Talewright at a new file."
        )
    if name == "SQLITE_CONSTRAINT_FOREIGNKEY":
        return NotFound("That refers to a story, turn or character that does not exist.")
    if name in ("SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY"):
        return Conflict()
    if primary == sqlite3.SQLITE_CANTOPEN:
        return StorageError(f"{where} cannot be opened; check that its folder exists.")
    if primary == sqlite3.SQLITE_FULL:
        return StorageError(f"{where} could not be written: the disk is full.")
    return StorageError(f"{where} failed: {exc}.")
