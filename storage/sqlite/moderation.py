"""Moderation events and moderators' decisions on them in SQLite."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

import aiosqlite

from storage.errors import Conflict, NotFound, StorageError
from storage.models import (
    ModerationEvent,
    ModerationKind,
    ModerationSource,
    Resolution,
    require_choice,
)
from storage.sqlite.codec import Row, from_json, to_json
from storage.sqlite.database import Database
from storage.sqlite.query import fetch_all, fetch_one

_STATUS_FOR: dict[str, str] = {"hidden": "resolved", "dismissed": "dismissed"}


class SqliteModerationRepository:
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
        async with self._db.transaction() as conn:
            row = await fetch_one(
                conn,
                """
                INSERT INTO moderation_events (guild_id, story_id, turn_id, user_id, kind,
                    source, excerpt, verdict_json, status, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'open', ?)
                RETURNING *
                """,
                (
                    guild_id,
                    story_id,
                    turn_id,
                    user_id,
                    kind,
                    source,
                    excerpt,
                    to_json(dict(verdict or {})),
                    self._db.now(),
                ),
            )
        assert row is not None
        return _event(row)

    async def get(self, event_id: int) -> ModerationEvent | None:
        async with self._db.read() as conn:
            row = await fetch_one(conn, "SELECT * FROM moderation_events WHERE id = ?", (event_id,))
        return None if row is None else _event(row)

    async def list_open(self, guild_id: int, limit: int = 25) -> list[ModerationEvent]:
        async with self._db.read() as conn:
            rows = await fetch_all(
                conn,
                "SELECT * FROM moderation_events WHERE guild_id = ? AND status = 'open' "
                "ORDER BY id DESC LIMIT ?",
                (guild_id, limit),
            )
        return [_event(row) for row in rows]

    async def list_recent(
        self,
        guild_id: int,
        kinds: Collection[ModerationKind] | None = None,
        limit: int = 25,
    ) -> list[ModerationEvent]:
        sql = "SELECT * FROM moderation_events WHERE guild_id = ?"
        params: tuple[Any, ...] = (guild_id,)
        if kinds is not None:
            chosen = [require_choice("kind", kind, ModerationKind) for kind in kinds]
            if not chosen:
                return []
            sql += f" AND kind IN ({', '.join('?' * len(chosen))})"
            params += tuple(chosen)
        async with self._db.read() as conn:
            rows = await fetch_all(conn, sql + " ORDER BY id DESC LIMIT ?", (*params, limit))
        return [_event(row) for row in rows]

    async def resolve(
        self, event_id: int, by: int, resolution: Resolution, note: str | None = None
    ) -> ModerationEvent:
        require_choice("resolution", resolution, Resolution)
        async with self._db.transaction() as conn:
            row = await fetch_one(
                conn,
                "UPDATE moderation_events SET status = ?, resolution = ?, resolved_by = ?, "
                "resolved_at = ?, note = ? WHERE id = ? AND status = 'open' RETURNING *",
                (_STATUS_FOR[resolution], resolution, by, self._db.now(), note, event_id),
            )
            if row is None:
                raise await _why_not_open(conn, event_id)
            if resolution == "hidden" and row["turn_id"] is not None:
                await conn.execute("UPDATE turns SET hidden = 1 WHERE id = ?", (row["turn_id"],))
        return _event(row)


async def _why_not_open(conn: aiosqlite.Connection, event_id: int) -> StorageError:
    """Why an event cannot be decided: it does not exist, or someone already decided it."""
    done = await fetch_one(
        conn, "SELECT resolution, resolved_by FROM moderation_events WHERE id = ?", (event_id,)
    )
    if done is None:
        return NotFound(f"Moderation event {event_id} does not exist.")
    return Conflict(
        f"Moderation event {event_id} was already decided "
        f"({done['resolution']}, by user {done['resolved_by']})."
    )


def _event(row: Row) -> ModerationEvent:
    return ModerationEvent(
        id=row["id"],
        guild_id=row["guild_id"],
        story_id=row["story_id"],
        turn_id=row["turn_id"],
        user_id=row["user_id"],
        kind=row["kind"],
        source=row["source"],
        excerpt=row["excerpt"],
        verdict=from_json(row["verdict_json"], {}),
        status=row["status"],
        resolution=row["resolution"],
        resolved_by=row["resolved_by"],
        resolved_at=row["resolved_at"],
        note=row["note"],
        created_at=row["created_at"],
    )
