"""Edits of turns in SQLite: the new text replaces the turn's, the old one goes to turn_edits.

A turn's text is the one column of `turns` that otherwise never changes after it is written
(the context cache relies on it), so an edit drops the turn from that cache in the same call
on the database thread.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection

from storage.errors import NotFound
from storage.models import Turn, TurnEdit
from storage.sqlite.codec import Row
from storage.sqlite.database import Database
from storage.sqlite.turns import SqliteTurnRepository, _turn

_REPLACE_TEXT = "UPDATE turns SET text = ? WHERE id = ? RETURNING *"


class SqliteEditRepository:
    def __init__(self, database: Database, turns: SqliteTurnRepository) -> None:
        self._db = database
        self._turns = turns

    async def edit(self, turn_id: int, editor_id: int, text: str) -> Turn:
        now = self._db.now()

        def work(conn: sqlite3.Connection) -> Turn:
            row = conn.execute("SELECT text FROM turns WHERE id = ?", (turn_id,)).fetchone()
            if row is None:
                raise NotFound(f"Turn {turn_id} does not exist.")
            conn.execute(
                "INSERT INTO turn_edits (turn_id, editor_id, previous_text, edited_at) "
                "VALUES (?, ?, ?, ?)",
                (turn_id, editor_id, row["text"], now),
            )
            edited = _turn(conn.execute(_REPLACE_TEXT, (text, turn_id)).fetchone())
            self._turns.context_cache.forget(turn_id)
            return edited

        return await self._db.run_in_transaction(work)

    async def history(self, turn_ids: Collection[int]) -> dict[int, list[TurnEdit]]:
        if not turn_ids:
            return {}
        marks = ", ".join("?" * len(turn_ids))
        sql = f"SELECT * FROM turn_edits WHERE turn_id IN ({marks}) ORDER BY turn_id, id"

        def read(conn: sqlite3.Connection) -> dict[int, list[TurnEdit]]:
            found: dict[int, list[TurnEdit]] = {}
            for row in conn.execute(sql, list(turn_ids)).fetchall():
                found.setdefault(row["turn_id"], []).append(_edit(row))
            return found

        return await self._db.run(read)


def _edit(row: Row) -> TurnEdit:
    return TurnEdit(
        id=row["id"],
        turn_id=row["turn_id"],
        editor_id=row["editor_id"],
        previous_text=row["previous_text"],
        edited_at=row["edited_at"],
    )
