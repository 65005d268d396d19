"""Tables as rows, on either backend: what `storage/copy.py` reads and writes.

A copy needs the same few things of SQLite and PostgreSQL: the tables with their columns,
primary keys and foreign keys; every row of a table in primary-key order, a batch at a time (so
100,000 turns never sit in memory at once); rows inserted with their ids; every row deleted; and
the id counters moved past the largest id. Readers see one snapshot of the source (SQLite: one
read transaction; PostgreSQL: READ ONLY REPEATABLE READ), and a writer does all its work in one
destination transaction that the copy commits only after the checksums agree.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import aiosqlite
import asyncpg

from storage.errors import StorageError
from storage.postgres.database import Database as PostgresDatabase
from storage.postgres.database import translate
from storage.sqlite.database import Database as SqliteDatabase

Row = tuple[Any, ...]
LOCK_TIMEOUT = "10s"
"""How long a PostgreSQL destination waits for programs writing to it before the copy gives up."""


@dataclass(frozen=True, slots=True)
class TableInfo:
    name: str
    columns: tuple[str, ...]
    key: tuple[str, ...]
    references: frozenset[str]
    """The other tables this table's foreign keys point at: they are filled first."""


class TableReader(Protocol):
    where: str

    async def tables(self) -> dict[str, TableInfo]: ...

    def batches(
        self, table: TableInfo, columns: Sequence[str], size: int
    ) -> AsyncIterator[list[Row]]:
        """The table's rows (only `columns`, in that order) in primary-key order."""
        ...


class TableWriter(TableReader, Protocol):
    async def insert(self, table: TableInfo, columns: Sequence[str], rows: list[Row]) -> None: ...

    async def delete_all(self, tables: Sequence[TableInfo]) -> None:
        """Delete every row of `tables` (given parents first)."""
        ...

    async def reset_counters(self, tables: Sequence[TableInfo]) -> None:
        """Make the next id of each table come after its largest."""
        ...


def _select(table: TableInfo, columns: Sequence[str], collate: Sequence[str] = ()) -> str:
    """Rows in primary-key order; the key columns named in `collate` (text) compare byte by
    byte, as SQLite's BINARY does, whatever collation the database has by default."""
    listed = ", ".join(f'"{column}"' for column in columns)
    order = ", ".join(
        f'"{column}"' + (' COLLATE "C"' if column in collate else "")
        for column in table.key or columns
    )
    return f'SELECT {listed} FROM "{table.name}" ORDER BY {order}'


class SqliteTables:
    """Tables of a SQLite database, on its connection inside a transaction."""

    def __init__(self, conn: aiosqlite.Connection, where: str) -> None:
        self.conn = conn
        self.where = where

    async def tables(self) -> dict[str, TableInfo]:
        names = await self.conn.execute_fetchall(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "ORDER BY name"
        )
        found = {}
        for (name,) in names:
            info = await self.conn.execute_fetchall(f'PRAGMA table_info("{name}")')
            keys = await self.conn.execute_fetchall(f'PRAGMA foreign_key_list("{name}")')
            found[name] = TableInfo(
                name=name,
                columns=tuple(row[1] for row in info),
                key=tuple(row[1] for row in sorted(info, key=lambda row: row[5]) if row[5] > 0),
                references=frozenset(row[2] for row in keys) - {name},
            )
        return found

    async def batches(
        self, table: TableInfo, columns: Sequence[str], size: int
    ) -> AsyncIterator[list[Row]]:
        async with self.conn.execute(_select(table, columns)) as cursor:
            while rows := await cursor.fetchmany(size):
                yield [tuple(row) for row in rows]

    async def insert(self, table: TableInfo, columns: Sequence[str], rows: list[Row]) -> None:
        listed = ", ".join(f'"{column}"' for column in columns)
        marks = ", ".join("?" for _ in columns)
        await self.conn.executemany(f'INSERT INTO "{table.name}" ({listed}) VALUES ({marks})', rows)

    async def delete_all(self, tables: Sequence[TableInfo]) -> None:
        for table in reversed(tables):
            await self.conn.execute(f'DELETE FROM "{table.name}"')

    async def reset_counters(self, tables: Sequence[TableInfo]) -> None:
        """Nothing to do: SQLite's next rowid (and AUTOINCREMENT's counter, which never goes
        back) already follows the largest id inserted."""


@contextlib.asynccontextmanager
async def sqlite_snapshot(database: SqliteDatabase) -> AsyncIterator[SqliteTables]:
    """Read the whole database as of one moment, while other programs go on writing to it."""
    async with database.read() as conn:
        await conn.execute("BEGIN")
        try:
            yield SqliteTables(conn, database.path)
        finally:
            with contextlib.suppress(sqlite3.Error):
                await conn.execute("ROLLBACK")


@contextlib.asynccontextmanager
async def sqlite_transaction(database: SqliteDatabase) -> AsyncIterator[SqliteTables]:
    """One write transaction (BEGIN IMMEDIATE: no other program writes until it ends)."""
    async with database.transaction() as conn:
        yield SqliteTables(conn, database.path)


_CONVERT: dict[str, Callable[[Any], Any]] = {
    "boolean": bool,
    "double precision": float,
    "bytea": bytes,
}
"""What a value read from SQLite (0/1 flags, REAL seconds, BLOBs) becomes for PostgreSQL."""


class PostgresTables:
    """Tables of a PostgreSQL database, on one connection inside a transaction."""

    def __init__(self, conn: asyncpg.Connection, where: str) -> None:
        self.conn = conn
        self.where = where
        self._types: dict[str, dict[str, str]] = {}
        self._identity: dict[str, str] = {}

    async def tables(self) -> dict[str, TableInfo]:
        columns = await self.conn.fetch(
            "SELECT table_name, column_name, data_type, is_identity "
            "FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND table_name <> 'talewright_schema' ORDER BY table_name, ordinal_position"
        )
        keys = await self.conn.fetch(
            "SELECT k.table_name, k.column_name FROM information_schema.table_constraints c "
            "JOIN information_schema.key_column_usage k USING (constraint_schema, constraint_name) "
            "WHERE c.constraint_type = 'PRIMARY KEY' AND c.table_schema = current_schema() "
            "ORDER BY k.table_name, k.ordinal_position"
        )
        references = await self.conn.fetch(
            "SELECT conrelid::regclass::text, confrelid::regclass::text FROM pg_constraint "
            "WHERE contype = 'f' AND connamespace = current_schema()::regnamespace"
        )
        found: dict[str, dict[str, list[str]]] = {}
        for table, column, data_type, identity in columns:
            found.setdefault(table, {"columns": [], "key": [], "references": []})
            found[table]["columns"].append(column)
            self._types.setdefault(table, {})[column] = data_type
            if identity == "YES":
                self._identity[table] = column
        for table, column in keys:
            if table in found:
                found[table]["key"].append(column)
        for table, parent in references:
            if table.strip('"') in found:
                found[table.strip('"')]["references"].append(parent.strip('"'))
        return {
            name: TableInfo(
                name,
                tuple(parts["columns"]),
                tuple(parts["key"]),
                frozenset(parts["references"]) - {name},
            )
            for name, parts in found.items()
        }

    async def batches(
        self, table: TableInfo, columns: Sequence[str], size: int
    ) -> AsyncIterator[list[Row]]:
        types = self._types[table.name]
        texts = [column for column in table.key if types.get(column) == "text"]
        cursor = await self.conn.cursor(_select(table, columns, texts))
        while rows := await cursor.fetch(size):
            yield [tuple(row) for row in rows]

    async def insert(self, table: TableInfo, columns: Sequence[str], rows: list[Row]) -> None:
        types = self._types[table.name]
        converters = [
            (index, _CONVERT[types[column]])
            for index, column in enumerate(columns)
            if types[column] in _CONVERT
        ]
        texts = [index for index, column in enumerate(columns) if types[column] == "text"]
        ready = []
        for row in rows:
            if any(row[index] is not None and "\x00" in row[index] for index in texts):
                raise StorageError(_nul_message(table, columns, row))
            if converters:
                values = list(row)
                for index, convert in converters:
                    if values[index] is not None:
                        values[index] = convert(values[index])
                row = tuple(values)
            ready.append(row)
        await self.conn.copy_records_to_table(table.name, records=ready, columns=list(columns))

    async def delete_all(self, tables: Sequence[TableInfo]) -> None:
        # DELETE, not TRUNCATE: the checksum reads' cursors stay open until the transaction ends.
        for table in reversed(tables):
            await self.conn.execute(f'DELETE FROM "{table.name}"')

    async def reset_counters(self, tables: Sequence[TableInfo]) -> None:
        for table in tables:
            column = self._identity.get(table.name)
            if column is None:
                continue
            await self.conn.execute(
                f"SELECT setval(pg_get_serial_sequence($1, $2), "
                f'coalesce(max("{column}"), 0) + 1, false) FROM "{table.name}"',
                table.name,
                column,
            )


def _nul_message(table: TableInfo, columns: Sequence[str], row: Row) -> str:
    where = ", ".join(
        f"{column} {row[columns.index(column)]}" for column in table.key if column in columns
    )
    return (
        f"A row of {table.name} ({where}) holds a NUL character (\\x00) in its text, which "
        "PostgreSQL cannot store; nothing was copied. Remove the character in the source and "
        "copy again."
    )


@contextlib.asynccontextmanager
async def postgres_snapshot(database: PostgresDatabase) -> AsyncIterator[PostgresTables]:
    """Read the whole database as of one moment, while other programs go on writing to it."""
    try:
        async with (
            database.connection() as conn,
            conn.transaction(isolation="repeatable_read", readonly=True),
        ):
            yield PostgresTables(conn, database.where)
    except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
        raise translate(exc, database.where) from exc


@contextlib.asynccontextmanager
async def postgres_transaction(database: PostgresDatabase) -> AsyncIterator[PostgresTables]:
    """One write transaction holding every table against other writers (readers go on)."""
    try:
        async with database.connection() as conn, conn.transaction():
            tables = PostgresTables(conn, database.where)
            await conn.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
            names = ", ".join(f'"{name}"' for name in await tables.tables())
            if names:
                await conn.execute(f"LOCK TABLE {names} IN EXCLUSIVE MODE")
            yield tables
    except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
        raise translate(exc, database.where) from exc
