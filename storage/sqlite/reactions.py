"""Reactions as a signal in SQLite: which message shows which turn, each guild's up/down emoji,
the up/down counts per turn (rows of `feedback`) and the reacted turns for training."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence

from storage.models import FeedbackExample, ReactionCount, ReactionEmoji
from storage.sqlite.database import Database
from storage.sqlite.query import fetch_all, fetch_one, fetch_value

_COUNTS = """
    SELECT turn_id,
           sum(kind = 'up') AS up,
           sum(kind = 'down') AS down
    FROM feedback
    WHERE kind IN ('up', 'down') AND turn_id IN ({marks})
    GROUP BY turn_id
"""

_REACTED = """
    SELECT t.id, t.story_id, t.slot, t.text, t.author_kind, t.state, s.genre,
           sum(f.kind = 'up') AS up, sum(f.kind = 'down') AS down
    FROM feedback AS f
    JOIN turns AS t ON t.id = f.turn_id
    JOIN stories AS s ON s.id = t.story_id
    WHERE f.kind IN ('up', 'down') AND t.hidden = 0
    GROUP BY t.id
    ORDER BY t.story_id, t.slot, t.alt_index
"""

_BEFORE = """
    SELECT text FROM turns
    WHERE story_id = ? AND slot < ? AND state = 'accepted' AND hidden = 0
    ORDER BY slot DESC LIMIT ?
"""


class SqliteReactionRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def show_turn(self, message_id: int, channel_id: int, turn_id: int) -> None:
        async with self._db.transaction() as conn:
            await conn.execute(
                "INSERT INTO turn_messages (message_id, channel_id, turn_id, shown_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (message_id) DO UPDATE SET "
                "channel_id = excluded.channel_id, turn_id = excluded.turn_id, "
                "shown_at = excluded.shown_at",
                (message_id, channel_id, turn_id, self._db.now()),
            )

    async def turn_for(self, message_id: int) -> int | None:
        async with self._db.read() as conn:
            return await fetch_value(
                conn, "SELECT turn_id FROM turn_messages WHERE message_id = ?", (message_id,)
            )

    async def emoji(self, guild_id: int) -> ReactionEmoji:
        async with self._db.read() as conn:
            row = await fetch_one(
                conn, "SELECT up, down FROM guild_reactions WHERE guild_id = ?", (guild_id,)
            )
        return ReactionEmoji() if row is None else ReactionEmoji(row["up"], row["down"])

    async def set_emoji(self, guild_id: int, emoji: ReactionEmoji) -> ReactionEmoji:
        if not emoji.up or not emoji.down or emoji.up == emoji.down:
            raise ValueError(f"up and down must be two different emoji, not {emoji}")
        async with self._db.transaction() as conn:
            await conn.execute(
                "INSERT INTO guild_reactions (guild_id, up, down, updated_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (guild_id) DO UPDATE SET "
                "up = excluded.up, down = excluded.down, updated_at = excluded.updated_at",
                (guild_id, emoji.up, emoji.down, self._db.now()),
            )
        return emoji

    async def counts(self, turn_ids: Sequence[int]) -> dict[int, ReactionCount]:
        if not turn_ids:
            return {}
        sql = _COUNTS.format(marks=", ".join("?" * len(turn_ids)))
        async with self._db.read() as conn:
            rows = await fetch_all(conn, sql, tuple(turn_ids))
        return {row["turn_id"]: ReactionCount(row["up"], row["down"]) for row in rows}

    async def examples(self, context_turns: int) -> list[FeedbackExample]:
        if context_turns < 0:
            raise ValueError(f"context_turns must be >= 0, not {context_turns}")
        return await self._db.run_in_transaction(
            lambda conn: list(_examples(conn, context_turns)), write=False
        )


def _examples(conn: sqlite3.Connection, context_turns: int) -> Iterator[FeedbackExample]:
    for row in conn.execute(_REACTED).fetchall():
        before = conn.execute(_BEFORE, (row["story_id"], row["slot"], context_turns)).fetchall()
        yield FeedbackExample(
            story_id=row["story_id"],
            turn_id=row["id"],
            genre=row["genre"],
            context=[turn["text"] for turn in reversed(before)],
            text=row["text"],
            author_kind=row["author_kind"],
            state=row["state"],
            up=row["up"],
            down=row["down"],
        )
