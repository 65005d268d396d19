"""Spacing per key in PostgreSQL, shared by every bot process on the database: one row per
(scope, key) with its last use and the one before. Two processes claiming one key at once
collide in their serializable transactions; the one retried finds the other's use."""

from __future__ import annotations

import asyncpg

from storage.postgres.database import Database, one_value

_CLAIM = """
    INSERT INTO cooldowns (scope, key, at) VALUES ($1, $2, $3)
    ON CONFLICT (scope, key) DO UPDATE SET previous = cooldowns.at, at = excluded.at
    WHERE cooldowns.at + $4 <= excluded.at
    RETURNING at
"""
_LAST = "SELECT at FROM cooldowns WHERE scope = $1 AND key = $2"
_UNDO_FIRST = "DELETE FROM cooldowns WHERE scope = $1 AND key = $2 AND at = $3 AND previous IS NULL"
_UNDO = (
    "UPDATE cooldowns SET at = previous, previous = NULL WHERE scope = $1 AND key = $2 AND at = $3"
)


class PostgresCooldownRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def claim(self, scope: str, key: int, spacing_s: float) -> tuple[float | None, float]:
        now = self._db.now()

        async def claim(conn: asyncpg.Connection) -> tuple[float | None, float]:
            if await conn.fetchrow(_CLAIM, scope, key, now, spacing_s) is not None:
                return now, 0.0
            last = await one_value(conn, _LAST, scope, key)
            return None, max(0.0, last + spacing_s - now)

        return await self._db.run(claim)

    async def undo(self, scope: str, key: int, at: float) -> None:
        async def undo(conn: asyncpg.Connection) -> None:
            await conn.execute(_UNDO_FIRST, scope, key, at)
            await conn.execute(_UNDO, scope, key, at)

        await self._db.run(undo)
