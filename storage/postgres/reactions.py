"""Reactions as a signal in PostgreSQL: which message shows which turn, each guild's up/down
emoji, the up/down counts per turn (rows of `feedback`) and the reacted turns for training."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from storage.models import FeedbackExample, ReactionCount, ReactionEmoji
from storage.postgres.database import Database

_COUNTS = """
    SELECT turn_id,
           count(*) FILTER (WHERE kind = 'up') AS up,
           count(*) FILTER (WHERE kind = 'down') AS down
    FROM feedback
    WHERE kind IN ('up', 'down') AND turn_id = ANY($1::bigint[])
    GROUP BY turn_id
"""

_REACTED = """
    SELECT t.id, t.story_id, t.slot, t.text, t.author_kind, t.state, s.genre,
           count(*) FILTER (WHERE f.kind = 'up') AS up,
           count(*) FILTER (WHERE f.kind = 'down') AS down
    FROM feedback AS f
    JOIN turns AS t ON t.id = f.turn_id
    JOIN stories AS s ON s.id = t.story_id
    WHERE f.kind IN ('up', 'down') AND NOT t.hidden
    GROUP BY t.id, s.id
    ORDER BY t.story_id, t.slot, t.alt_index
"""

_BEFORE = """
    SELECT text FROM turns
    WHERE story_id = $1 AND slot < $2 AND state = 'accepted' AND NOT hidden
    ORDER BY slot DESC LIMIT $3
"""


class PostgresReactionRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def show_turn(self, message_id: int, channel_id: int, turn_id: int) -> None:
        await self._db.write_count(
            "INSERT INTO turn_messages (message_id, channel_id, turn_id, shown_at) "
            "VALUES ($1, $2, $3, $4) ON CONFLICT (message_id) DO UPDATE SET "
            "channel_id = excluded.channel_id, turn_id = excluded.turn_id, "
            "shown_at = excluded.shown_at",
            message_id,
            channel_id,
            turn_id,
            self._db.now(),
        )

    async def turn_for(self, message_id: int) -> int | None:
        return await self._db.fetchval(
            "SELECT turn_id FROM turn_messages WHERE message_id = $1", message_id
        )

    async def emoji(self, guild_id: int) -> ReactionEmoji:
        row = await self._db.fetchrow(
            "SELECT up, down FROM guild_reactions WHERE guild_id = $1", guild_id
        )
        return ReactionEmoji() if row is None else ReactionEmoji(row["up"], row["down"])

    async def set_emoji(self, guild_id: int, emoji: ReactionEmoji) -> ReactionEmoji:
        if not emoji.up or not emoji.down or emoji.up == emoji.down:
            raise ValueError(f"up and down must be two different emoji, not {emoji}")
        await self._db.write_count(
            "INSERT INTO guild_reactions (guild_id, up, down, updated_at) "
            "VALUES ($1, $2, $3, $4) ON CONFLICT (guild_id) DO UPDATE SET "
            "up = excluded.up, down = excluded.down, updated_at = excluded.updated_at",
            guild_id,
            emoji.up,
            emoji.down,
            self._db.now(),
        )
        return emoji

    async def counts(self, turn_ids: Sequence[int]) -> dict[int, ReactionCount]:
        if not turn_ids:
            return {}
        rows = await self._db.fetch(_COUNTS, list(turn_ids))
        return {row["turn_id"]: ReactionCount(row["up"], row["down"]) for row in rows}

    async def examples(self, context_turns: int) -> list[FeedbackExample]:
        if context_turns < 0:
            raise ValueError(f"context_turns must be >= 0, not {context_turns}")
        return await self._db.read(lambda conn: _examples(conn, context_turns))


async def _examples(conn: asyncpg.Connection, context_turns: int) -> list[FeedbackExample]:
    examples = []
    for row in await conn.fetch(_REACTED):
        before = await conn.fetch(_BEFORE, row["story_id"], row["slot"], context_turns)
        examples.append(
            FeedbackExample(
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
        )
    return examples
