"""Reactions to turns (keep, reroll votes, thumbs, reports) in SQLite."""

from __future__ import annotations

import sqlite3

from storage.models import FeedbackKind, require_choice
from storage.sqlite.database import Database
from storage.sqlite.query import execute, fetch_all, fetch_value


class SqliteFeedbackRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def add(self, turn_id: int, user_id: int, kind: FeedbackKind) -> bool:
        now = self._db.now()
        return await self._db.run(lambda conn: record(conn, turn_id, user_id, kind, now))

    async def count(self, turn_id: int, kind: FeedbackKind) -> int:
        async with self._db.read() as conn:
            return int(
                await fetch_value(
                    conn,
                    "SELECT count(*) FROM feedback WHERE turn_id = ? AND kind = ?",
                    (turn_id, kind),
                )
            )

    async def remove(self, turn_id: int, user_id: int, kind: FeedbackKind) -> bool:
        require_choice("kind", kind, FeedbackKind)
        async with self._db.transaction() as conn:
            removed = await execute(
                conn,
                "DELETE FROM feedback WHERE turn_id = ? AND user_id = ? AND kind = ?",
                (turn_id, user_id, kind),
            )
        return removed > 0

    async def voters(
        self, turn_id: int, kind: FeedbackKind, *, since: float | None = None
    ) -> list[int]:
        sql = "SELECT user_id FROM feedback WHERE turn_id = ? AND kind = ?"
        params: tuple[object, ...] = (turn_id, kind)
        if since is not None:
            sql += " AND created_at >= ?"
            params += (since,)
        async with self._db.read() as conn:
            rows = await fetch_all(conn, sql + " ORDER BY id", params)
        return [row["user_id"] for row in rows]

    async def renew(self, turn_id: int, user_id: int, kind: FeedbackKind) -> bool:
        require_choice("kind", kind, FeedbackKind)
        async with self._db.transaction() as conn:
            known = await fetch_value(
                conn,
                "SELECT count(*) FROM feedback WHERE turn_id = ? AND user_id = ? AND kind = ?",
                (turn_id, user_id, kind),
            )
            await conn.execute(
                "INSERT INTO feedback (turn_id, user_id, kind, created_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (turn_id, kind, user_id) "
                "DO UPDATE SET created_at = excluded.created_at",
                (turn_id, user_id, kind, self._db.now()),
            )
        return not known


def record(
    conn: sqlite3.Connection, turn_id: int, user_id: int, kind: FeedbackKind, now: float
) -> bool:
    """Add one reaction unless the user already gave it; True when it is new."""
    require_choice("kind", kind, FeedbackKind)
    cursor = conn.execute(
        "INSERT INTO feedback (turn_id, user_id, kind, created_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (turn_id, kind, user_id) DO NOTHING",
        (turn_id, user_id, kind, now),
    )
    return cursor.rowcount > 0
