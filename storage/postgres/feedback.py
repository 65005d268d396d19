"""Reactions to turns (keep, reroll votes, thumbs, reports) in PostgreSQL."""

from __future__ import annotations

import asyncpg

from storage.models import FeedbackKind, require_choice
from storage.postgres.database import Database, changed


class PostgresFeedbackRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def add(self, turn_id: int, user_id: int, kind: FeedbackKind) -> bool:
        now = self._db.now()
        return await self._db.run(lambda conn: record(conn, turn_id, user_id, kind, now))

    async def count(self, turn_id: int, kind: FeedbackKind) -> int:
        return int(
            await self._db.fetchval(
                "SELECT count(*) FROM feedback WHERE turn_id = $1 AND kind = $2", turn_id, kind
            )
        )

    async def remove(self, turn_id: int, user_id: int, kind: FeedbackKind) -> bool:
        require_choice("kind", kind, FeedbackKind)
        removed = await self._db.write_count(
            "DELETE FROM feedback WHERE turn_id = $1 AND user_id = $2 AND kind = $3",
            turn_id,
            user_id,
            kind,
        )
        return removed > 0

    async def voters(
        self, turn_id: int, kind: FeedbackKind, *, since: float | None = None
    ) -> list[int]:
        rows = await self._db.fetch(
            "SELECT user_id FROM feedback WHERE turn_id = $1 AND kind = $2 "
            "AND ($3::double precision IS NULL OR created_at >= $3) ORDER BY id",
            turn_id,
            kind,
            since,
        )
        return [row["user_id"] for row in rows]

    async def renew(self, turn_id: int, user_id: int, kind: FeedbackKind) -> bool:
        require_choice("kind", kind, FeedbackKind)
        now = self._db.now()

        async def work(conn: asyncpg.Connection) -> bool:
            known = await conn.fetchval(
                "SELECT count(*) FROM feedback WHERE turn_id = $1 AND user_id = $2 AND kind = $3",
                turn_id,
                user_id,
                kind,
            )
            await conn.execute(
                "INSERT INTO feedback (turn_id, user_id, kind, created_at) "
                "VALUES ($1, $2, $3, $4) ON CONFLICT (turn_id, kind, user_id) "
                "DO UPDATE SET created_at = excluded.created_at",
                turn_id,
                user_id,
                kind,
                now,
            )
            return not known

        return await self._db.run(work)


async def record(
    conn: asyncpg.Connection, turn_id: int, user_id: int, kind: FeedbackKind, now: float
) -> bool:
    """Add one reaction unless the user already gave it; True when it is new."""
    require_choice("kind", kind, FeedbackKind)
    status = await conn.execute(
        "INSERT INTO feedback (turn_id, user_id, kind, created_at) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT (turn_id, kind, user_id) DO NOTHING",
        turn_id,
        user_id,
        kind,
        now,
    )
    return changed(status) > 0
