"""Edits of turns in PostgreSQL: the new text replaces the turn's, the old one goes to
turn_edits, in one transaction."""

from __future__ import annotations

from collections.abc import Collection

import asyncpg

from storage.errors import NotFound
from storage.models import Turn, TurnEdit
from storage.postgres.database import Database, one_row
from storage.sqlite.edits import _edit
from storage.sqlite.turns import _turn


class PostgresEditRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def edit(self, turn_id: int, editor_id: int, text: str) -> Turn:
        now = self._db.now()

        async def work(conn: asyncpg.Connection) -> Turn:
            previous = await conn.fetchrow("SELECT text FROM turns WHERE id = $1", turn_id)
            if previous is None:
                raise NotFound(f"Turn {turn_id} does not exist.")
            await conn.execute(
                "INSERT INTO turn_edits (turn_id, editor_id, previous_text, edited_at) "
                "VALUES ($1, $2, $3, $4)",
                turn_id,
                editor_id,
                previous["text"],
                now,
            )
            return _turn(
                await one_row(
                    conn, "UPDATE turns SET text = $1 WHERE id = $2 RETURNING *", text, turn_id
                )
            )

        return await self._db.run(work)

    async def history(self, turn_ids: Collection[int]) -> dict[int, list[TurnEdit]]:
        if not turn_ids:
            return {}
        rows = await self._db.fetch(
            "SELECT * FROM turn_edits WHERE turn_id = ANY($1::bigint[]) ORDER BY turn_id, id",
            list(turn_ids),
        )
        found: dict[int, list[TurnEdit]] = {}
        for row in rows:
            found.setdefault(row["turn_id"], []).append(_edit(row))
        return found
