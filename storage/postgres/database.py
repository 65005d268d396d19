"""A pool of PostgreSQL connections: its transactions and the translation of its errors.

Every write runs as one SERIALIZABLE transaction, retried from the start when PostgreSQL
reports a serialization failure or a deadlock. That gives the guarantee SQLite's single writer
gives (each transaction behaves as if it ran alone), also across bot processes, without a lock
per kind of record: two processes that both number the next turn of a story cannot both
commit, and the one that retries numbers the turn after. A transaction's work is therefore a
function of the connection that may run more than once and must keep its side effects inside
the database. Reads that need one snapshot run as READ ONLY REPEATABLE READ transactions, which
never fail to serialize; a single read statement runs on its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any, TypeVar, cast

import asyncpg

from storage.errors import Conflict, DatabaseLocked, DatabaseReadOnly, NotFound, StorageError

Clock = Callable[[], float]
T = TypeVar("T")
Work = Callable[[asyncpg.Connection], Awaitable[T]]

DEFAULT_POOL_SIZE = 10
DEFAULT_ATTEMPTS = 20
"""Tries of one write transaction before a stream of conflicting writers becomes DatabaseLocked."""

_RETRIED = (asyncpg.SerializationError, asyncpg.DeadlockDetectedError)


class Database:
    """An open PostgreSQL database; build it with `await Database.open(...)`."""

    def __init__(
        self, pool: asyncpg.Pool, where: str, clock: Clock, connect: Mapping[str, Any]
    ) -> None:
        self._pool: asyncpg.Pool | None = pool
        self.where = where
        self.connect_options = dict(connect)
        """The asyncpg.connect keyword arguments, for connections apart from the pool."""
        self.clock = clock
        self.attempts = DEFAULT_ATTEMPTS

    @classmethod
    async def open(
        cls,
        connect: Mapping[str, Any],
        where: str,
        *,
        pool_size: int = DEFAULT_POOL_SIZE,
        connect_timeout_s: float = 10.0,
        clock: Clock = time.time,
    ) -> Database:
        """Connect a pool with the asyncpg.connect keyword arguments `connect`; `where` names
        the database in messages (a URL without its password)."""
        try:
            pool = await asyncpg.create_pool(
                min_size=1, max_size=pool_size, timeout=connect_timeout_s, **connect
            )
        except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
            raise _unreachable(exc, where) from exc
        return cls(pool, where, clock, connect)

    @property
    def pool(self) -> asyncpg.Pool:
        """The asyncpg pool, for tools that need connections of their own (copies, benchmarks)."""
        if self._pool is None:
            raise StorageError("The story database is closed.")
        return self._pool

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[asyncpg.Connection]:
        """A connection of the pool for as long as the block runs."""
        async with self.pool.acquire() as proxy:
            # The pool hands out a proxy that forwards every Connection method to its connection.
            yield cast(asyncpg.Connection, proxy)

    def now(self) -> float:
        return self.clock()

    async def close(self) -> None:
        """Close every connection; safe to call twice."""
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()

    async def run(self, work: Work[T], *, write: bool = True, isolation: str | None = None) -> T:
        """Run `work` in one transaction: committed when it returns, rolled back if it raises.

        A write transaction is SERIALIZABLE and runs `work` again (after a short random pause)
        when it lost a race with another transaction; a read-only one (`write` False) sees one
        snapshot of the database. `isolation` overrides the level (a migration reads committed
        data after waiting for its lock, which a serializable snapshot taken before would miss).
        """
        isolation = isolation or ("serializable" if write else "repeatable_read")
        for attempt in range(self.attempts):
            try:
                async with (
                    self.connection() as conn,
                    conn.transaction(isolation=isolation, readonly=not write),
                ):
                    return await work(conn)
            except _RETRIED as exc:
                if attempt + 1 == self.attempts:
                    raise DatabaseLocked(
                        f"The story database {self.where} is too busy (the change collided "
                        f"with others {self.attempts} times); nothing was saved. Try again."
                    ) from exc
                await asyncio.sleep(random.uniform(0, 0.002 * (attempt + 1)))
            except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
                raise translate(exc, self.where) from exc
        raise AssertionError("unreachable")

    async def read(self, work: Work[T]) -> T:
        """Run reads that need one consistent snapshot."""
        return await self.run(work, write=False)

    async def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        """One read statement on its own."""
        try:
            return await self.pool.fetch(sql, *args)
        except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
            raise translate(exc, self.where) from exc

    async def fetchrow(self, sql: str, *args: Any) -> asyncpg.Record | None:
        rows = await self.fetch(sql, *args)
        return rows[0] if rows else None

    async def fetchval(self, sql: str, *args: Any) -> Any:
        row = await self.fetchrow(sql, *args)
        return None if row is None else row[0]

    async def write(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        """One write statement as its own (serializable, retried) transaction; its rows."""
        return await self.run(lambda conn: conn.fetch(sql, *args))

    async def update_columns(
        self, table: str, row_id: int, columns: dict[str, Any]
    ) -> list[asyncpg.Record]:
        """`UPDATE table SET <columns>, updated_at = now WHERE id = row_id RETURNING *` as one
        write; `table` and the column names come from the repositories' own code, never from
        a user, and every value is a bound parameter."""
        assignments = "".join(f"{column} = ${n}, " for n, column in enumerate(columns, start=3))
        return await self.write(
            f"UPDATE {table} SET {assignments}updated_at = $1 WHERE id = $2 RETURNING *",
            self.now(),
            row_id,
            *columns.values(),
        )

    async def write_count(self, sql: str, *args: Any) -> int:
        """One write statement as its own transaction; how many rows it changed."""

        async def work(conn: asyncpg.Connection) -> int:
            return changed(await conn.execute(sql, *args))

        return await self.run(work)


async def one_row(conn: asyncpg.Connection, sql: str, *args: Any) -> asyncpg.Record:
    """The row of a statement that always returns one (an INSERT or upsert with RETURNING, a
    row this transaction has just checked or written): StorageError instead of a None that
    would fail further on."""
    row = await conn.fetchrow(sql, *args)
    if row is None:
        raise StorageError(f"The story database returned no row for: {sql.strip()[:60]}")
    return row


async def one_value(conn: asyncpg.Connection, sql: str, *args: Any) -> Any:
    """The first column of `one_row` (a count, a maximum, a RETURNING id)."""
    return (await one_row(conn, sql, *args))[0]


def changed(status: str) -> int:
    """The row count of a command status such as 'UPDATE 3' or 'INSERT 0 1'."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0


def _unreachable(exc: BaseException, where: str) -> StorageError:
    if isinstance(exc, asyncpg.InvalidAuthorizationSpecificationError):
        return StorageError(
            f"The story database {where} refused the login ({exc}); check the user and the "
            "password (TALEWRIGHT_DB_PASSWORD, PGPASSWORD or the password file)."
        )
    if isinstance(exc, asyncpg.InvalidCatalogNameError):
        return StorageError(f"The story database {where} does not exist; create it first.")
    return StorageError(f"The story database {where} cannot be reached: {exc}.")


def translate(exc: BaseException, where: str) -> StorageError:
    """The StorageError that tells a person what went wrong with the database at `where`."""
    place = f"The story database {where}"
    if isinstance(exc, asyncpg.ForeignKeyViolationError):
        return NotFound("That refers to a story, turn or character that does not exist.")
    if isinstance(exc, asyncpg.UniqueViolationError | asyncpg.ExclusionViolationError):
        return Conflict()
    if isinstance(exc, asyncpg.CharacterNotInRepertoireError):
        return StorageError(
            "That text holds a NUL character (\\x00), which PostgreSQL cannot store; "
            "nothing was saved. Remove it and try again."
        )
    if isinstance(exc, asyncpg.LockNotAvailableError | asyncpg.QueryCanceledError):
        return DatabaseLocked(
            f"{place} is locked by another program; nothing was saved. Try again in a moment."
        )
    if isinstance(exc, asyncpg.ReadOnlySQLTransactionError | asyncpg.InsufficientPrivilegeError):
        return DatabaseReadOnly(
            f"{place} cannot be written ({exc}); nothing was saved. "
            "Check the database user's privileges and that the server is not read-only."
        )
    if isinstance(exc, asyncpg.DiskFullError):
        return StorageError(f"{place} could not be written: the server's disk is full.")
    if isinstance(exc, asyncpg.DataCorruptedError | asyncpg.IndexCorruptedError):
        return StorageError(f"{place} is damaged ({exc}). Restore it from a backup.")
    if isinstance(exc, OSError | asyncpg.InterfaceError | asyncpg.PostgresConnectionError):
        return StorageError(f"{place} cannot be reached ({exc}); nothing was saved.")
    return StorageError(f"{place} failed: {exc}.")
