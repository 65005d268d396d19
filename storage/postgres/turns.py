"""Turns and their alternatives in PostgreSQL.

Unlike SQLite's, this backend keeps no cache of context turns: another bot process may edit a
turn's text, and one indexed read of the latest turns is a single round trip anyway.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg

from storage.errors import NotFound
from storage.models import ContextTurn, Story, Turn, TurnDraft
from storage.postgres.database import Database, one_row
from storage.postgres.stories import pass_turn
from storage.sqlite.codec import to_json
from storage.sqlite.turns import _check, _turn

_DRAFT_COLUMNS = (
    "author_kind, author_id, author_name, character_id, character_name, kind, text, "
    "model_id, params_json, score, moderation_json"
)
_DRAFT_VALUES = (
    "$2::text, $3::bigint, $4::text, $5::bigint, $6::text, $7::text, $8::text, $9::text, "
    "$10::text, $11::double precision, $12::text, $13::double precision"
)
"""A draft's columns and their parameters ($13 is created_at); $1 is the story."""

_INSERT_SLOT = f"""
    INSERT INTO turns (story_id, slot, alt_index, {_DRAFT_COLUMNS}, created_at, state,
        accepted_by, hidden, shown_seq)
    SELECT $1::bigint, coalesce(max(slot) + 1, 0), 0, {_DRAFT_VALUES}, $14::text, $15::bigint,
        false, 1
    FROM turns WHERE story_id = $1
    RETURNING *
"""
"""A new slot after the story's last. Two transactions that number the same slot cannot both
commit (serializable), and the one retried numbers the next."""

_INSERT_ALTERNATIVE = f"""
    INSERT INTO turns (story_id, slot, alt_index, {_DRAFT_COLUMNS}, created_at, state,
        accepted_by, hidden, shown_seq)
    SELECT $1::bigint, $14::bigint, max(alt_index) + 1, {_DRAFT_VALUES}, 'pending', NULL,
        false, max(shown_seq) + 1
    FROM turns WHERE story_id = $1 AND slot = $14
    HAVING count(*) > 0
    RETURNING *
"""
"""Another alternative of an existing slot, and the latest shown of it; no row comes back when
the slot does not exist."""

_VISIBLE_ACCEPTED = "story_id = $1 AND state = 'accepted' AND NOT hidden"
RECENT_ACCEPTED = f"SELECT * FROM turns WHERE {_VISIBLE_ACCEPTED} ORDER BY slot DESC LIMIT $2"
RECENT_CONTEXT = (
    "SELECT slot, author_kind, author_name, character_name, kind, text FROM turns "
    f"WHERE {_VISIBLE_ACCEPTED} ORDER BY slot DESC LIMIT $2"
)
PENDING = "SELECT * FROM turns WHERE story_id = $1 AND state = 'pending' ORDER BY slot, alt_index"
_DISCARD_SIBLINGS = (
    "UPDATE turns SET state = 'discarded' "
    "WHERE (story_id, slot) = (SELECT story_id, slot FROM turns WHERE id = $1) "
    "AND id <> $1 AND state <> 'discarded'"
)
_SLOT_OF = (
    "SELECT * FROM turns "
    "WHERE (story_id, slot) = (SELECT story_id, slot FROM turns WHERE id = $1) ORDER BY alt_index"
)
_ACCEPT = (
    "UPDATE turns SET accepted_by = CASE WHEN state = 'accepted' THEN accepted_by ELSE $2 END, "
    "state = 'accepted' WHERE id = $1 RETURNING *"
)


async def read_pending(conn: asyncpg.Connection, story_id: int) -> list[Turn]:
    return [_turn(row) for row in await conn.fetch(PENDING, story_id)]


async def read_context(conn: asyncpg.Connection, story_id: int, limit: int) -> list[ContextTurn]:
    """The latest `limit` accepted, visible turns of the story, oldest first."""
    rows = await conn.fetch(RECENT_CONTEXT, story_id, limit)
    return [ContextTurn(*row) for row in reversed(rows)]


async def read_slot_of(conn: asyncpg.Connection, turn_id: int) -> list[Turn]:
    """Every alternative of the slot that holds `turn_id` (none when there is no such turn)."""
    return [_turn(row) for row in await conn.fetch(_SLOT_OF, turn_id)]


async def accept_turn(conn: asyncpg.Connection, turn_id: int, by: int) -> Turn:
    """Accept one alternative and discard its siblings; the caller holds a transaction."""
    # Siblings first: the slot may hold only one accepted turn at any moment.
    await conn.execute(_DISCARD_SIBLINGS, turn_id)
    row = await conn.fetchrow(_ACCEPT, turn_id, by)
    if row is None:
        raise NotFound(f"Turn {turn_id} does not exist.")
    return _turn(row)


async def insert_slot(conn: asyncpg.Connection, values: Sequence[Any]) -> Turn:
    """A new slot after the story's last (`values` from `_slot_values`)."""
    return _turn(await one_row(conn, _INSERT_SLOT, *values))


class PostgresTurnRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def add(self, story_id: int, draft: TurnDraft) -> Turn:
        values = self._slot_values(story_id, draft)
        return await self._db.run(lambda conn: insert_slot(conn, values))

    async def keep_and_add(
        self, story_id: int, draft: TurnDraft, keep: Sequence[int], by: int
    ) -> tuple[list[Turn], Turn]:
        values = self._slot_values(story_id, draft)

        async def work(conn: asyncpg.Connection) -> tuple[list[Turn], Turn]:
            kept = [await accept_turn(conn, turn_id, by) for turn_id in keep]
            return kept, await insert_slot(conn, values)

        return await self._db.run(work)

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
        values = self._slot_values(story_id, draft, state="accepted", accepted_by=by)
        now = self._db.now()

        async def work(conn: asyncpg.Connection) -> tuple[list[Turn], Turn, Story]:
            kept = [await accept_turn(conn, turn_id, by) for turn_id in keep]
            turn = await insert_slot(conn, values)
            story = await pass_turn(
                conn, story_id, seat, turn_deadline, expect_seat=expect_seat, now=now
            )
            return kept, turn, story

        return await self._db.run(work)

    def _slot_values(
        self,
        story_id: int,
        draft: TurnDraft,
        *,
        state: str | None = None,
        accepted_by: int | None = None,
    ) -> list[Any]:
        _check(draft)
        if state is None:
            by_user = draft.author_kind == "user"
            state = "accepted" if by_user else "pending"
            accepted_by = draft.author_id if by_user else None
        return [*self._values(story_id, draft), state, accepted_by]

    async def add_alternative(self, story_id: int, slot: int, draft: TurnDraft) -> Turn:
        _check(draft)
        rows = await self._db.write(_INSERT_ALTERNATIVE, *self._values(story_id, draft), slot)
        if not rows:
            raise NotFound(f"Story {story_id} has no turn at position {slot} to reroll.")
        return _turn(rows[0])

    def _values(self, story_id: int, draft: TurnDraft) -> list[Any]:
        """$1..$13 of the insert statements, in _DRAFT_COLUMNS order then created_at."""
        return [
            story_id,
            draft.author_kind,
            draft.author_id,
            draft.author_name,
            draft.character_id,
            draft.character_name,
            draft.kind,
            draft.text,
            draft.model_id,
            to_json(draft.params),
            draft.score,
            None if draft.moderation is None else to_json(draft.moderation),
            self._db.now(),
        ]

    async def list_alternatives(self, story_id: int, slot: int) -> list[Turn]:
        rows = await self._db.fetch(
            "SELECT * FROM turns WHERE story_id = $1 AND slot = $2 ORDER BY alt_index",
            story_id,
            slot,
        )
        return [_turn(row) for row in rows]

    async def accept(self, turn_id: int, by: int) -> Turn:
        return await self._db.run(lambda conn: accept_turn(conn, turn_id, by))

    async def discard(self, turn_id: int) -> Turn:
        rows = await self._db.write(
            "UPDATE turns SET state = 'discarded' WHERE id = $1 RETURNING *", turn_id
        )
        return _turn(_found(rows, turn_id))

    async def get(self, turn_id: int) -> Turn | None:
        row = await self._db.fetchrow("SELECT * FROM turns WHERE id = $1", turn_id)
        return None if row is None else _turn(row)

    async def recent_accepted(self, story_id: int, limit: int = 50) -> list[Turn]:
        rows = await self._db.fetch(RECENT_ACCEPTED, story_id, limit)
        return [_turn(row) for row in reversed(rows)]

    async def recent_context(self, story_id: int, limit: int = 50) -> list[ContextTurn]:
        rows = await self._db.fetch(RECENT_CONTEXT, story_id, limit)
        return [ContextTurn(*row) for row in reversed(rows)]

    async def page(
        self, story_id: int, offset: int = 0, limit: int = 20, *, include_hidden: bool = False
    ) -> list[Turn]:
        rows = await self._db.fetch(
            "SELECT * FROM turns WHERE story_id = $1 AND state = 'accepted' "
            "AND ($4 OR NOT hidden) ORDER BY slot LIMIT $2 OFFSET $3",
            story_id,
            limit,
            offset,
            include_hidden,
        )
        return [_turn(row) for row in rows]

    async def count_accepted(self, story_id: int, *, include_hidden: bool = False) -> int:
        return int(
            await self._db.fetchval(
                "SELECT count(*) FROM turns WHERE story_id = $1 AND state = 'accepted' "
                "AND ($2 OR NOT hidden)",
                story_id,
                include_hidden,
            )
        )

    async def count_with_param(self, story_id: int, param: str) -> int:
        # As SQLite's json_extract: a key whose value is JSON null does not count.
        return int(
            await self._db.fetchval(
                "SELECT count(*) FROM turns WHERE story_id = $1 AND state = 'accepted' "
                "AND coalesce(jsonb_typeof(params_json::jsonb -> $2::text), 'null') <> 'null'",
                story_id,
                param,
            )
        )

    async def next_slot(self, story_id: int) -> int:
        return int(
            await self._db.fetchval(
                "SELECT coalesce(max(slot) + 1, 0) FROM turns WHERE story_id = $1", story_id
            )
        )

    async def pending_for_story(self, story_id: int) -> list[Turn]:
        return [_turn(row) for row in await self._db.fetch(PENDING, story_id)]

    async def undo_last(self, story_id: int) -> Turn | None:
        rows = await self._db.write(
            f"""
            UPDATE turns SET state = 'discarded'
            WHERE id = (SELECT id FROM turns WHERE {_VISIBLE_ACCEPTED}
                        ORDER BY slot DESC LIMIT 1)
            RETURNING *
            """,
            story_id,
        )
        return _turn(rows[0]) if rows else None

    async def mark_shown(self, turn_id: int) -> Turn:
        rows = await self._db.write(
            "UPDATE turns SET shown_seq = (SELECT max(shown_seq) + 1 FROM turns AS t "
            "WHERE t.story_id = turns.story_id AND t.slot = turns.slot) "
            "WHERE id = $1 RETURNING *",
            turn_id,
        )
        return _turn(_found(rows, turn_id))

    async def discard_pending(self, story_id: int) -> list[Turn]:
        rows = await self._db.write(
            "UPDATE turns SET state = 'discarded' WHERE story_id = $1 AND state = 'pending' "
            "RETURNING *",
            story_id,
        )
        return sorted((_turn(row) for row in rows), key=lambda turn: (turn.slot, turn.alt_index))

    async def set_hidden(self, turn_id: int, hidden: bool = True) -> Turn:
        rows = await self._db.write(
            "UPDATE turns SET hidden = $1 WHERE id = $2 RETURNING *", bool(hidden), turn_id
        )
        return _turn(_found(rows, turn_id))


def _found(rows: list[asyncpg.Record], turn_id: int) -> asyncpg.Record:
    if not rows:
        raise NotFound(f"Turn {turn_id} does not exist.")
    return rows[0]
