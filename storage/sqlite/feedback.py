"""Reactions to turns (keep, reroll votes, thumbs, reports) in SQLite."""

from __future__ import annotations

from storage.models import FeedbackKind, require_choice
from storage.sqlite.database import Database
from storage.sqlite.query import execute, fetch_all, fetch_value


class SqliteFeedbackRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def add(self, turn_id: int, user_id: int, kind: FeedbackKind) -> bool:
        require_choice("kind", kind, FeedbackKind)
        async with self._db.transaction() as conn:
            added = await execute(
                conn,
                "INSERT INTO feedback (turn_id, user_id, kind, created_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (turn_id, kind, user_id) DO NOTHING",
                (turn_id, user_id, kind, self._db.now()),
            )
        return added > 0

    async def count(self, turn_id: int, kind: FeedbackKind) -> int:
        async with self._db.read() as conn:
            return int(
                await fetch_value(
                    conn,
                    "SELECT count(*) FROM feedback WHERE turn_id = ? AND kind = ?",
                    (turn_id, kind),
                )
            )

    async def voters(self, turn_id: int, kind: FeedbackKind) -> list[int]:
        async with self._db.read() as conn:
            rows = await fetch_all(
                conn,
                "SELECT user_id FROM feedback WHERE turn_id = ? AND kind = ? ORDER BY id",
                (turn_id, kind),
            )
        return [row["user_id"] for row in rows]
