"""Copy every table of one story database to another: SQLite to PostgreSQL, back, or between files.

Every row moves with its id, a batch at a time, inside one destination transaction that is
committed only when each table's row count and checksum in the destination equal the source's;
otherwise nothing is written. PostgreSQL's id counters are then moved past the largest id.

A table's checksum is the SHA-256 of its rows in primary-key order, each row written the same
way whichever backend it came from: integers as integers (PostgreSQL's booleans as SQLite's
0 and 1), text verbatim (JSON columns are text on both backends, so their exact bytes are
compared, which is stricter than comparing them parsed), floats by Python's exact repr (both
backends store IEEE doubles and both drivers return them bit for bit; timestamps are all unix
seconds in such floats), bytes as hex, NULL as None.

Running a copy again is safe: a destination that already holds the same data is left alone
("already identical"); one that holds other data is refused unless `replace` is set. The source
must have exactly the schema of this version of Talewright; it is read without being upgraded.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import storage.postgres.migrate as postgres_migrate
import storage.sqlite.migrate as sqlite_migrate
from storage.backends import check_url, open_storage_url, shown_url, sqlite_path
from storage.copy_tables import (
    Row,
    TableInfo,
    TableReader,
    TableWriter,
    postgres_snapshot,
    postgres_transaction,
    sqlite_snapshot,
    sqlite_transaction,
)
from storage.errors import SchemaTooNew, StorageError
from storage.postgres import PostgresStorage
from storage.postgres.database import Database as PostgresDatabase
from storage.postgres.url import connect_options, display_url
from storage.sqlite.database import Database as SqliteDatabase

DEFAULT_BATCH_ROWS = 5_000
Progress = Callable[[str, int], None]
"""Told each table's name and row count as the table is copied."""


class CopyRefused(StorageError):
    """The copy was not started, or was rolled back: the destination is as it was."""


@dataclass(frozen=True, slots=True)
class TableSummary:
    rows: int
    sha256: str


@dataclass(frozen=True, slots=True)
class CopyReport:
    tables: dict[str, TableSummary]
    copied: bool
    """False when the destination already held the same data and nothing was written."""
    replaced: bool = False
    seconds: float = 0.0
    rows: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "rows", sum(table.rows for table in self.tables.values()))


def _normal(value: Any) -> Any:
    if value.__class__ is bool:
        return int(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return ("bytes", bytes(value).hex())
    return value


class TableHash:
    """The running checksum of one table's rows, fed in primary-key order."""

    def __init__(self) -> None:
        self.rows = 0
        self._hash = hashlib.sha256()

    def add(self, rows: Sequence[Row]) -> None:
        for row in rows:
            self._hash.update(repr(tuple(map(_normal, row))).encode("utf-8", "surrogatepass"))
            self._hash.update(b"\n")
        self.rows += len(rows)

    def summary(self) -> TableSummary:
        return TableSummary(self.rows, self._hash.hexdigest())


async def summarise(
    reader: TableReader,
    tables: Sequence[TableInfo],
    columns: Mapping[str, Sequence[str]],
    batch_rows: int = DEFAULT_BATCH_ROWS,
) -> dict[str, TableSummary]:
    """Each table's row count and checksum, reading `columns[table]` in that order."""
    found = {}
    for table in tables:
        digest = TableHash()
        async for rows in reader.batches(table, columns[table.name], batch_rows):
            digest.add(rows)
        found[table.name] = digest.summary()
    return found


def fill_order(tables: Mapping[str, TableInfo]) -> list[TableInfo]:
    """Tables with every table a foreign key points at before it (by name among equals)."""
    ordered: list[TableInfo] = []
    placed: set[str] = set()
    waiting = dict(sorted(tables.items()))
    while waiting:
        ready = [t for t in waiting.values() if t.references <= placed | {t.name}]
        if not ready:
            raise StorageError(f"The tables {sorted(waiting)} refer to each other in a cycle.")
        for table in ready:
            ordered.append(table)
            placed.add(table.name)
            del waiting[table.name]
    return ordered


def _matching_columns(
    source: Mapping[str, TableInfo], dest: Mapping[str, TableInfo]
) -> dict[str, tuple[str, ...]]:
    """The columns to copy per table (in the source's order); refused unless both schemas name
    the same tables and columns."""
    if set(source) != set(dest):
        raise CopyRefused(
            "The two databases do not have the same tables (only in the source: "
            f"{sorted(set(source) - set(dest)) or 'none'}; only in the destination: "
            f"{sorted(set(dest) - set(source)) or 'none'}); nothing was copied."
        )
    for name, table in source.items():
        if set(table.columns) != set(dest[name].columns):
            raise CopyRefused(
                f"The table {name} has other columns in the destination "
                f"({sorted(dest[name].columns)}) than in the source ({sorted(table.columns)}); "
                "nothing was copied."
            )
    return {name: table.columns for name, table in source.items()}


def _differences(source: Mapping[str, TableSummary], dest: Mapping[str, TableSummary]) -> list[str]:
    return [
        f"{name} ({dest[name].rows} rows there, {summary.rows} here)"
        if dest[name].rows != summary.rows
        else f"{name} (same {summary.rows} rows count, other content)"
        for name, summary in source.items()
        if dest[name] != summary
    ]


@contextlib.asynccontextmanager
async def open_source(
    url: str, *, password_file: str | None = None
) -> AsyncIterator[SqliteDatabase | PostgresDatabase]:
    """The database at `url`, opened without upgrading it; refused unless its schema is exactly
    the one this version of Talewright writes."""
    path = sqlite_path(url)
    database: SqliteDatabase | PostgresDatabase
    if path is not None:
        _require_file(path)
        database = await SqliteDatabase.open(path)
        expected = sqlite_migrate.bundled_migrations()[-1].version
    else:
        options = connect_options(url, password_file=password_file)
        database = await PostgresDatabase.open(options, display_url(url), pool_size=2)
        expected = postgres_migrate.bundled_migrations()[-1].version
    try:
        if isinstance(database, SqliteDatabase):
            found = await sqlite_migrate.schema_version(database)
        else:
            found = await postgres_migrate.schema_version(database)
        _check_version(shown_url(url), found, expected)
        yield database
    finally:
        await database.close()


def _require_file(path: str) -> None:
    if not os.path.isfile(path):
        raise CopyRefused(f"There is no story database at {path}; nothing was copied.")


def _check_version(where: str, found: int, expected: int) -> None:
    if found > expected:
        raise SchemaTooNew(
            f"The source database {where} has schema version {found}, newer than this version "
            f"of Talewright knows ({expected}); nothing was copied. Copy it with the newer "
            "Talewright that wrote it."
        )
    if found == 0:
        raise CopyRefused(
            f"The source database {where} holds no Talewright stories (it has no schema); "
            "nothing was copied."
        )
    if found < expected:
        raise CopyRefused(
            f"The source database {where} has schema version {found}, older than this version "
            f"of Talewright's ({expected}); nothing was copied. Open it once with this version "
            "(it upgrades the schema, keeping a backup of a SQLite file) and copy again."
        )


def _same_database(source_url: str, dest_url: str) -> bool:
    source_path, dest_path = sqlite_path(source_url), sqlite_path(dest_url)
    if source_path is not None and dest_path is not None:
        return os.path.realpath(source_path) == os.path.realpath(dest_path)
    return display_url(source_url) == display_url(dest_url)


def _reader(database: SqliteDatabase | PostgresDatabase) -> Any:
    if isinstance(database, SqliteDatabase):
        return sqlite_snapshot(database)
    return postgres_snapshot(database)


def write_transaction(storage: Any) -> Any:
    """One destination transaction on an open storage, as a TableWriter (bulk loads use it)."""
    if isinstance(storage, PostgresStorage):
        return postgres_transaction(storage.database)
    return sqlite_transaction(storage.database)


async def copy_database(
    source_url: str,
    dest_url: str,
    *,
    replace: bool = False,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    source_password_file: str | None = None,
    dest_password_file: str | None = None,
    progress: Progress | None = None,
) -> CopyReport:
    """Copy every row of the database at `source_url` into the one at `dest_url`.

    The destination is created or upgraded to this version's schema. Raises CopyRefused (the
    destination unchanged) when the source's schema is not this version's, when the
    destination holds other data and `replace` is False, or when a checksum disagrees after
    the copy; SchemaTooNew and StorageError when a database cannot be used.
    """
    started = time.perf_counter()
    if batch_rows < 1:
        raise CopyRefused("The batch size must be at least one row.")
    for url in (source_url, dest_url):
        try:
            check_url(url)
        except ValueError as exc:
            raise CopyRefused(f"The storage URL {shown_url(url)} cannot be used: {exc}.") from exc
    if _same_database(source_url, dest_url):
        raise CopyRefused(
            f"The source and the destination are the same database ({shown_url(source_url)})."
        )
    async with open_source(source_url, password_file=source_password_file) as source:
        dest = await open_storage_url(
            dest_url, password_file=dest_password_file, pool_size=2, sole_writer=True
        )
        try:
            async with _reader(source) as reader, write_transaction(dest) as writer:
                report = await _copy(reader, writer, replace, batch_rows, progress)
        finally:
            await dest.close()
    return CopyReport(report.tables, report.copied, report.replaced, time.perf_counter() - started)


async def _copy(
    reader: TableReader,
    writer: TableWriter,
    replace: bool,
    batch_rows: int,
    progress: Progress | None,
) -> CopyReport:
    source_tables = await reader.tables()
    columns = _matching_columns(source_tables, await writer.tables())
    order = fill_order(source_tables)
    there = await summarise(writer, order, columns, batch_rows)
    replaced = False
    if any(summary.rows for summary in there.values()):
        here = await summarise(reader, order, columns, batch_rows)
        if here == there:
            return CopyReport(here, copied=False)
        if not replace:
            raise CopyRefused(
                f"The destination {writer.where} already holds other stories: "
                f"{'; '.join(_differences(here, there))}. Nothing was copied; copy again with "
                "--replace to delete everything there first."
            )
        await writer.delete_all(order)
        replaced = True
    copied = {}
    for table in order:
        digest = TableHash()
        async for rows in reader.batches(table, columns[table.name], batch_rows):
            digest.add(rows)
            await writer.insert(table, columns[table.name], rows)
        copied[table.name] = digest.summary()
        if progress is not None:
            progress(table.name, digest.rows)
    await writer.reset_counters(order)
    written = await summarise(writer, order, columns, batch_rows)
    if written != copied:
        raise CopyRefused(
            f"After copying, the destination {writer.where} differs from the source: "
            f"{'; '.join(_differences(copied, written))}. The copy was rolled back."
        )
    return CopyReport(copied, copied=True, replaced=replaced)
