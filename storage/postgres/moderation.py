"""Moderation events and moderators' decisions on them in PostgreSQL."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

import asyncpg

from storage.errors import Conflict, NotFound, StorageError
from storage.models import (
    ModerationEvent,
    ModerationKind,
    ModerationSource,
    Resolution,
    require_choice,
)
from storage.postgres.database import Database
from storage.sqlite.codec import to_json
from storage.sqlite.moderation import _STATUS_FOR, _event


class PostgresModerationRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def add(
        self,
        guild_id: int,
        kind: ModerationKind,
        source: ModerationSource,
        *,
        story_id: int | None = None,
        turn_id: int | None = None,
        user_id: int | None = None,
        excerpt: str = "",
        verdict: Mapping[str, Any] | None = None,
    ) -> ModerationEvent:
        require_choice("kind", kind, ModerationKind)
        require_choice("source", source, ModerationSource)
        rows = await self._db.write(
            """
            INSERT INTO moderation_events (guild_id, story_id, turn_id, user_id, kind,
                source, excerpt, verdict_json, status, created_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'open', $9)
            RETURNING *
            """,
            guild_id,
            story_id,
            turn_id,
            user_id,
            kind,
            source,
            excerpt,
            to_json(dict(verdict or {})),
            self._db.now(),
        )
        return _event(rows[0])

    async def get(self, event_id: int) -> ModerationEvent | None:
        row = await self._db.fetchrow("SELECT * FROM moderation_events WHERE id = $1", event_id)
        return None if row is None else _event(row)

    async def list_open(self, guild_id: int, limit: int = 25) -> list[ModerationEvent]:
        rows = await self._db.fetch(
            "SELECT * FROM moderation_events WHERE guild_id = $1 AND status = 'open' "
            "ORDER BY id DESC LIMIT $2",
            guild_id,
            limit,
        )
        return [_event(row) for row in rows]

    async def list_recent(
        self,
        guild_id: int,
        kinds: Collection[ModerationKind] | None = None,
        limit: int = 25,
    ) -> list[ModerationEvent]:
        chosen = None
        if kinds is not None:
            chosen = [require_choice("kind", kind, ModerationKind) for kind in kinds]
            if not chosen:
                return []
        rows = await self._db.fetch(
            "SELECT * FROM moderation_events WHERE guild_id = $1 "
            "AND ($2::text[] IS NULL OR kind = ANY($2)) ORDER BY id DESC LIMIT $3",
            guild_id,
            chosen,
            limit,
        )
        return [_event(row) for row in rows]

    async def resolve(
        self, event_id: int, by: int, resolution: Resolution, note: str | None = None
    ) -> ModerationEvent:
        require_choice("resolution", resolution, Resolution)
        now = self._db.now()

        async def work(conn: asyncpg.Connection) -> ModerationEvent:
            row = await conn.fetchrow(
                "UPDATE moderation_events SET status = $1, resolution = $2, resolved_by = $3, "
                "resolved_at = $4, note = $5 WHERE id = $6 AND status = 'open' RETURNING *",
                _STATUS_FOR[resolution],
                resolution,
                by,
                now,
                note,
                event_id,
            )
            if row is None:
                raise await _why_not_open(conn, event_id)
            if resolution == "hidden" and row["turn_id"] is not None:
                await conn.execute("UPDATE turns SET hidden = true WHERE id = $1", row["turn_id"])
            return _event(row)

        return await self._db.run(work)


async def _why_not_open(conn: asyncpg.Connection, event_id: int) -> StorageError:
    """Why an event cannot be decided: it does not exist, or someone already decided it."""
    done = await conn.fetchrow(
        "SELECT resolution, resolved_by FROM moderation_events WHERE id = $1", event_id
    )
    if done is None:
        return NotFound(f"Moderation event {event_id} does not exist.")
    return Conflict(
        f"Moderation event {event_id} was already decided "
        f"({done['resolution']}, by user {done['resolved_by']})."
    )
