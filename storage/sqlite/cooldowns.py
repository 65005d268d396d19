"""Spacing per key in SQLite: one row per (scope, key) with its last use and the one before."""

from __future__ import annotations

import sqlite3

from storage.sqlite.database import Database

_CLAIM = """
    INSERT INTO cooldowns (scope, key, at) VALUES (?1, ?2, ?3)
    ON CONFLICT (scope, key) DO UPDATE SET previous = cooldowns.at, at = excluded.at
    WHERE cooldowns.at + ?4 <= excluded.at
    RETURNING at
"""
_LAST = "SELECT at FROM cooldowns WHERE scope = ?1 AND key = ?2"
_UNDO_FIRST = "DELETE FROM cooldowns WHERE scope = ?1 AND key = ?2 AND at = ?3 AND previous IS NULL"
_UNDO = (
    "UPDATE cooldowns SET at = previous, previous = NULL WHERE scope = ?1 AND key = ?2 AND at = ?3"
)


class SqliteCooldownRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def claim(self, scope: str, key: int, spacing_s: float) -> tuple[float | None, float]:
        now = self._db.now()

        def claim(conn: sqlite3.Connection) -> tuple[float | None, float]:
            if conn.execute(_CLAIM, (scope, key, now, spacing_s)).fetchone() is not None:
                return now, 0.0
            (last,) = conn.execute(_LAST, (scope, key)).fetchone()
            return None, max(0.0, last + spacing_s - now)

        return await self._db.run_in_transaction(claim)

    async def undo(self, scope: str, key: int, at: float) -> None:
        def undo(conn: sqlite3.Connection) -> None:
            conn.execute(_UNDO_FIRST, (scope, key, at))
            conn.execute(_UNDO, (scope, key, at))

        await self._db.run_in_transaction(undo)
