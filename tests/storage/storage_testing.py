"""Helpers shared by the storage tests (imported by name; conftest holds only fixtures)."""

from __future__ import annotations

import itertools
import re
from collections.abc import Awaitable, Callable
from typing import Any

from storage.models import TurnDraft
from storage.postgres import PostgresStorage


class FakeClock:
    """Unix time that moves only when a test says so."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def user_turn(text: str, author_id: int = 30, **fields: Any) -> TurnDraft:
    return TurnDraft(
        author_kind="user", text=text, author_id=author_id, author_name="Ann", **fields
    )


def model_turn(text: str, asked_by: int = 30, **fields: Any) -> TurnDraft:
    return TurnDraft(
        author_kind="model", text=text, author_id=asked_by, model_id="lstm-v1", **fields
    )


Opener = Callable[[], Awaitable[Any]]
"""The `open_again` fixture: opens another storage on the test's database."""

BACKENDS = ["sqlite", "postgres"]
"""The storage backends the storage suite runs on (the ids of its `backend` parameter)."""


async def query(storage: Any, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    """The rows of one read statement written with `?` placeholders, on either backend."""
    if isinstance(storage, PostgresStorage):
        numbers = itertools.count(1)
        sql = re.sub(r"\?", lambda _: f"${next(numbers)}", sql)
        return [tuple(row) for row in await storage.database.fetch(sql, *args)]
    async with storage.database.read() as conn:
        return [tuple(row) for row in await conn.execute_fetchall(sql, args)]


async def id_columns(storage: Any) -> dict[str, list[str]]:
    """Every table's columns that could hold a user id (PostgreSQL: its bigint columns)."""
    if isinstance(storage, PostgresStorage):
        rows = await storage.database.fetch(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND data_type = 'bigint' "
            "ORDER BY table_name, ordinal_position"
        )
        found: dict[str, list[str]] = {}
        for table, column in rows:
            found.setdefault(table, []).append(column)
        return found
    tables = await query(
        storage, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    )
    return {
        table: [row[1] for row in await query(storage, f"PRAGMA table_info({table})")]
        for (table,) in tables
    }
