"""Small helpers that run one parameterized statement and shape its rows.

Each is one round trip to aiosqlite's thread (a cursor's execute, fetch and close would be three).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

import aiosqlite

Params = Sequence[Any] | Mapping[str, Any]


async def fetch_all(conn: aiosqlite.Connection, sql: str, params: Params = ()) -> list[sqlite3.Row]:
    return list(await conn.execute_fetchall(sql, params))


async def fetch_one(
    conn: aiosqlite.Connection, sql: str, params: Params = ()
) -> sqlite3.Row | None:
    rows = await fetch_all(conn, sql, params)
    return rows[0] if rows else None


async def fetch_value(conn: aiosqlite.Connection, sql: str, params: Params = ()) -> Any:
    """The first column of the first row (None when there is no row)."""
    row = await fetch_one(conn, sql, params)
    return None if row is None else row[0]


async def execute(conn: aiosqlite.Connection, sql: str, params: Params = ()) -> int:
    """Run a write; returns how many rows it changed.

    One round trip: the change count is the connection's running total before and after (the
    caller has the connection to itself, and the schema has no triggers, whose changes the
    total would include), where a cursor's rowcount would need a second trip to close it.
    """
    before = conn.total_changes
    await conn.execute_fetchall(sql, params)
    return conn.total_changes - before
