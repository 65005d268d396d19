"""Turns and their alternatives in SQLite."""

from __future__ import annotations

import sqlite3
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from storage.errors import NotFound
from storage.models import (
    AuthorKind,
    ContextTurn,
    Story,
    Turn,
    TurnDraft,
    TurnKind,
    require_choice,
)
from storage.sqlite.codec import Row, from_json, to_json
from storage.sqlite.database import Database
from storage.sqlite.query import fetch_all, fetch_one, fetch_value
from storage.sqlite.stories import pass_turn

_COLUMNS = """
    INSERT INTO turns (story_id, slot, alt_index, author_kind, author_id, author_name,
        accepted_by, character_id, character_name, kind, text, model_id, params_json, score,
        moderation_json, state, hidden, created_at, shown_seq)
"""

_INSERT_SLOT = (
    _COLUMNS
    + """
    SELECT :story_id, coalesce(max(slot) + 1, 0), 0, :author_kind, :author_id, :author_name,
        :accepted_by, :character_id, :character_name, :kind, :text, :model_id, :params_json,
        :score, :moderation_json, :state, 0, :created_at, 1
    FROM turns WHERE story_id = :story_id
    RETURNING *
"""
)
"""A new slot after the story's last, numbered and written in one statement (so atomically)."""

_INSERT_ALTERNATIVE = (
    _COLUMNS
    + """
    SELECT :story_id, :slot, max(alt_index) + 1, :author_kind, :author_id, :author_name,
        NULL, :character_id, :character_name, :kind, :text, :model_id, :params_json,
        :score, :moderation_json, 'pending', 0, :created_at, max(shown_seq) + 1
    FROM turns WHERE story_id = :story_id AND slot = :slot
    HAVING count(*) > 0
    RETURNING *
"""
)
"""Another alternative of an existing slot, and the latest shown of it: a front end shows what
was just made. No row comes back when the slot does not exist."""

RECENT_ACCEPTED = (
    "SELECT * FROM turns WHERE story_id = ? AND state = 'accepted' AND hidden = 0 "
    "ORDER BY slot DESC LIMIT ?"
)
"""Recent turns in full: it walks the accepted turns' (story_id, slot) index backwards."""

RECENT_IDS = (
    "SELECT id FROM turns WHERE story_id = ? AND state = 'accepted' AND hidden = 0 "
    "ORDER BY slot DESC LIMIT ?"
)
"""The context query of every AI turn: the same walk, reading only the index."""

_CONTEXT_COLUMNS = "id, slot, author_kind, author_name, character_name, kind, text"
"""What the model sees of a turn, after its id, in ContextTurn's field order."""

CONTEXT_CACHE_SIZE = 10_000
"""Turns kept by ContextCache: the latest 50 of 200 stories; a few megabytes of text."""

PENDING = "SELECT * FROM turns WHERE story_id = ? AND state = 'pending' ORDER BY slot, alt_index"
"""The pending alternatives, read before every turn: they walk the small turns_pending index."""

_DISCARD_SIBLINGS = (
    "UPDATE turns SET state = 'discarded' "
    "WHERE (story_id, slot) = (SELECT story_id, slot FROM turns WHERE id = ?) "
    "AND id <> ? AND state <> 'discarded'"
)
_SLOT_OF = (
    "SELECT * FROM turns "
    "WHERE (story_id, slot) = (SELECT story_id, slot FROM turns WHERE id = ?) ORDER BY alt_index"
)
_ACCEPT = (
    "UPDATE turns SET accepted_by = CASE WHEN state = 'accepted' THEN accepted_by ELSE ? END, "
    "state = 'accepted' WHERE id = ? RETURNING *"
)


def read_pending(conn: sqlite3.Connection, story_id: int) -> list[Turn]:
    return [_turn(row) for row in conn.execute(PENDING, (story_id,)).fetchall()]


class ContextCache:
    """What the model reads of each turn, by turn id, for the turns read lately.

    A turn's slot, author, character and kind never change once it is written, nor does its
    text except through an edit, which calls `forget`; otherwise only its state, acceptance,
    visibility and shown order do (tests/storage/test_storage_turn_scaling.py
    checks every UPDATE of turns). So each AI turn walks the index for the ids of the latest
    visible turns, which sees every keep, undo and hide, and reads in full only the turns it has
    not met: usually the one written since the last request, where reading all fifty cost a
    tenth of a model turn. Used on the database thread only, so it needs no lock.
    """

    def __init__(self, size: int = CONTEXT_CACHE_SIZE) -> None:
        self._size = size
        self._turns: OrderedDict[int, ContextTurn] = OrderedDict()

    def read(self, conn: sqlite3.Connection, story_id: int, limit: int) -> list[ContextTurn]:
        """The latest `limit` accepted, visible turns of the story, oldest first."""
        ids = [row[0] for row in conn.execute(RECENT_IDS, (story_id, limit)).fetchall()]
        known = self._turns
        found = {turn_id: known[turn_id] for turn_id in ids if turn_id in known}
        if len(found) < len(ids):
            missing = [turn_id for turn_id in ids if turn_id not in found]
            marks = ", ".join("?" * len(missing))
            rows = conn.execute(
                f"SELECT {_CONTEXT_COLUMNS} FROM turns WHERE id IN ({marks})", missing
            ).fetchall()
            for turn_id, *fields in rows:
                found[turn_id] = known[turn_id] = ContextTurn(*fields)
            while len(known) > self._size:
                known.popitem(last=False)
        return [found[turn_id] for turn_id in reversed(ids)]

    def forget(self, turn_id: int) -> None:
        """Drop a turn whose text was edited (storage/sqlite/edits.py), so it is read anew."""
        self._turns.pop(turn_id, None)


def read_slot_of(conn: sqlite3.Connection, turn_id: int) -> list[Turn]:
    """Every alternative of the slot that holds `turn_id` (none when there is no such turn)."""
    return [_turn(row) for row in conn.execute(_SLOT_OF, (turn_id,)).fetchall()]


def accept_turn(conn: sqlite3.Connection, turn_id: int, by: int) -> Turn:
    """Accept one alternative and discard its siblings; the caller holds a transaction."""
    # Siblings first: the slot may hold only one accepted turn at any moment.
    conn.execute(_DISCARD_SIBLINGS, (turn_id, turn_id))
    rows = conn.execute(_ACCEPT, (by, turn_id)).fetchall()
    if not rows:
        raise NotFound(f"Turn {turn_id} does not exist.")
    return _turn(rows[0])


def insert_slot(conn: sqlite3.Connection, values: dict[str, Any]) -> Turn:
    """A new slot after the story's last (`values` from `SqliteTurnRepository._slot_values`)."""
    return _turn(conn.execute(_INSERT_SLOT, values).fetchall()[0])


class SqliteTurnRepository:
    def __init__(self, database: Database) -> None:
        self._db = database
        self.context_cache = ContextCache()

    async def add(self, story_id: int, draft: TurnDraft) -> Turn:
        values = self._slot_values(story_id, draft)
        return await self._db.run(lambda conn: insert_slot(conn, values))

    async def keep_and_add(
        self, story_id: int, draft: TurnDraft, keep: Sequence[int], by: int
    ) -> tuple[list[Turn], Turn]:
        values = self._slot_values(story_id, draft)

        def work(conn: sqlite3.Connection) -> tuple[list[Turn], Turn]:
            kept = [accept_turn(conn, turn_id, by) for turn_id in keep]
            return kept, insert_slot(conn, values)

        return await self._db.run_in_transaction(work)

    async def stand_in(
        self,
        story_id: int,
        draft: TurnDraft,
        keep: Sequence[int],
        by: int,
        *,
        seat: int,
        turn_deadline: float | None,
        expect_seat: int,
    ) -> tuple[list[Turn], Turn, Story]:
        values = self._slot_values(story_id, draft)
        values.update(state="accepted", accepted_by=by)
        now = self._db.now()

        def work(conn: sqlite3.Connection) -> tuple[list[Turn], Turn, Story]:
            kept = [accept_turn(conn, turn_id, by) for turn_id in keep]
            turn = insert_slot(conn, values)
            story = pass_turn(conn, story_id, seat, turn_deadline, expect_seat=expect_seat, now=now)
            return kept, turn, story

        return await self._db.run_in_transaction(work)

    def _slot_values(self, story_id: int, draft: TurnDraft) -> dict[str, Any]:
        _check(draft)
        by_user = draft.author_kind == "user"
        values = self._values(story_id, draft)
        values["state"] = "accepted" if by_user else "pending"
        values["accepted_by"] = draft.author_id if by_user else None
        return values

    async def add_alternative(self, story_id: int, slot: int, draft: TurnDraft) -> Turn:
        _check(draft)
        values = self._values(story_id, draft)
        values["slot"] = slot
        async with self._db.statement() as conn:
            row = await fetch_one(conn, _INSERT_ALTERNATIVE, values)
        if row is None:
            raise NotFound(f"Story {story_id} has no turn at position {slot} to reroll.")
        return _turn(row)

    def _values(self, story_id: int, draft: TurnDraft) -> dict[str, Any]:
        return {
            "story_id": story_id,
            "author_kind": draft.author_kind,
            "author_id": draft.author_id,
            "author_name": draft.author_name,
            "character_id": draft.character_id,
            "character_name": draft.character_name,
            "kind": draft.kind,
            "text": draft.text,
            "model_id": draft.model_id,
            "params_json": to_json(draft.params),
            "score": draft.score,
            "moderation_json": None if draft.moderation is None else to_json(draft.moderation),
            "created_at": self._db.now(),
        }

    async def list_alternatives(self, story_id: int, slot: int) -> list[Turn]:
        async with self._db.read() as conn:
            rows = await fetch_all(
                conn,
                "SELECT * FROM turns WHERE story_id = ? AND slot = ? ORDER BY alt_index",
                (story_id, slot),
            )
        return [_turn(row) for row in rows]

    async def accept(self, turn_id: int, by: int) -> Turn:
        return await self._db.run_in_transaction(lambda conn: accept_turn(conn, turn_id, by))

    async def discard(self, turn_id: int) -> Turn:
        async with self._db.statement() as conn:
            row = await fetch_one(
                conn, "UPDATE turns SET state = 'discarded' WHERE id = ? RETURNING *", (turn_id,)
            )
        return _turn(_found(row, turn_id))

    async def get(self, turn_id: int) -> Turn | None:
        async with self._db.read() as conn:
            row = await fetch_one(conn, "SELECT * FROM turns WHERE id = ?", (turn_id,))
        return None if row is None else _turn(row)

    async def recent_accepted(self, story_id: int, limit: int = 50) -> list[Turn]:
        async with self._db.read() as conn:
            rows = await fetch_all(conn, RECENT_ACCEPTED, (story_id, limit))
        return [_turn(row) for row in reversed(rows)]

    async def recent_context(self, story_id: int, limit: int = 50) -> list[ContextTurn]:
        return await self._db.run(lambda conn: self.context_cache.read(conn, story_id, limit))

    async def page(
        self, story_id: int, offset: int = 0, limit: int = 20, *, include_hidden: bool = False
    ) -> list[Turn]:
        visible = "" if include_hidden else " AND hidden = 0"
        async with self._db.read() as conn:
            rows = await fetch_all(
                conn,
                f"SELECT * FROM turns WHERE story_id = ? AND state = 'accepted'{visible} "
                "ORDER BY slot LIMIT ? OFFSET ?",
                (story_id, limit, offset),
            )
        return [_turn(row) for row in rows]

    async def count_accepted(self, story_id: int, *, include_hidden: bool = False) -> int:
        visible = "" if include_hidden else " AND hidden = 0"
        async with self._db.read() as conn:
            return int(
                await fetch_value(
                    conn,
                    "SELECT count(*) FROM turns "
                    f"WHERE story_id = ? AND state = 'accepted'{visible}",
                    (story_id,),
                )
            )

    async def count_with_param(self, story_id: int, param: str) -> int:
        async with self._db.read() as conn:
            return int(
                await fetch_value(
                    conn,
                    "SELECT count(*) FROM turns WHERE story_id = ? AND state = 'accepted' "
                    "AND json_extract(params_json, '$.' || json_quote(?)) IS NOT NULL",
                    (story_id, param),
                )
            )

    async def next_slot(self, story_id: int) -> int:
        async with self._db.read() as conn:
            return int(
                await fetch_value(
                    conn,
                    "SELECT coalesce(max(slot) + 1, 0) FROM turns WHERE story_id = ?",
                    (story_id,),
                )
            )

    async def pending_for_story(self, story_id: int) -> list[Turn]:
        return await self._db.run(lambda conn: read_pending(conn, story_id))

    async def undo_last(self, story_id: int) -> Turn | None:
        async with self._db.statement() as conn:
            row = await fetch_one(
                conn,
                """
                UPDATE turns SET state = 'discarded'
                WHERE id = (SELECT id FROM turns
                            WHERE story_id = ? AND state = 'accepted' AND hidden = 0
                            ORDER BY slot DESC LIMIT 1)
                RETURNING *
                """,
                (story_id,),
            )
        return None if row is None else _turn(row)

    async def mark_shown(self, turn_id: int) -> Turn:
        async with self._db.statement() as conn:
            row = await fetch_one(
                conn,
                "UPDATE turns SET shown_seq = (SELECT max(shown_seq) + 1 FROM turns AS t "
                "WHERE t.story_id = turns.story_id AND t.slot = turns.slot) "
                "WHERE id = ? RETURNING *",
                (turn_id,),
            )
        return _turn(_found(row, turn_id))

    async def discard_pending(self, story_id: int) -> list[Turn]:
        async with self._db.statement() as conn:
            rows = await fetch_all(
                conn,
                "UPDATE turns SET state = 'discarded' WHERE story_id = ? AND state = 'pending' "
                "RETURNING *",
                (story_id,),
            )
        return sorted((_turn(row) for row in rows), key=lambda turn: (turn.slot, turn.alt_index))

    async def set_hidden(self, turn_id: int, hidden: bool = True) -> Turn:
        async with self._db.statement() as conn:
            row = await fetch_one(
                conn,
                "UPDATE turns SET hidden = ? WHERE id = ? RETURNING *",
                (int(hidden), turn_id),
            )
        return _turn(_found(row, turn_id))


def _check(draft: TurnDraft) -> None:
    require_choice("author_kind", draft.author_kind, AuthorKind)
    require_choice("kind", draft.kind, TurnKind)


def _found(row: sqlite3.Row | None, turn_id: int) -> sqlite3.Row:
    if row is None:
        raise NotFound(f"Turn {turn_id} does not exist.")
    return row


def _turn(row: Row) -> Turn:
    return Turn(
        id=row["id"],
        story_id=row["story_id"],
        slot=row["slot"],
        alt_index=row["alt_index"],
        author_kind=row["author_kind"],
        author_id=row["author_id"],
        author_name=row["author_name"],
        accepted_by=row["accepted_by"],
        character_id=row["character_id"],
        character_name=row["character_name"],
        kind=row["kind"],
        text=row["text"],
        model_id=row["model_id"],
        params=from_json(row["params_json"], {}),
        score=row["score"],
        moderation=from_json(row["moderation_json"]),
        state=row["state"],
        hidden=bool(row["hidden"]),
        created_at=row["created_at"],
        shown_seq=row["shown_seq"],
    )
