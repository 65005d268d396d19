"""Per-user style profiles in SQLite (one profile per user, shared across guilds)."""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

import aiosqlite

from storage.models import StyleProfile
from storage.repositories import StatsUpdate
from storage.sqlite.codec import Row, from_json, pack_vector, to_json, unpack_vector
from storage.sqlite.database import Database
from storage.sqlite.query import execute, fetch_one

_UPSERT = """
    INSERT INTO style_profiles (user_id, vector, count, stats, preferences, updated_at)
    VALUES (?, ?, ?, ?, ?, ?)
    ON CONFLICT (user_id) DO UPDATE SET
        vector = excluded.vector,
        count = excluded.count,
        stats = excluded.stats,
        preferences = excluded.preferences,
        updated_at = excluded.updated_at
    RETURNING *
"""


class SqliteStyleRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def get(self, user_id: int) -> StyleProfile | None:
        return await self._db.run(lambda conn: read_profile(conn, user_id))

    async def add_vectors(
        self,
        user_id: int,
        vectors: Sequence[Sequence[float]],
        stats_update: StatsUpdate | None = None,
    ) -> StyleProfile:
        width = _checked_width(vectors)
        async with self._db.transaction() as conn:
            stored = await _select(conn, user_id)
            profile = _profile(stored) if stored is not None else _empty(user_id)
            mean, count = profile.vector, profile.count
            if vectors:
                if count and len(mean) != width:
                    raise ValueError(
                        f"style vectors have {width} values but the stored profile has "
                        f"{len(mean)}; delete the profile to change the vector size"
                    )
                sums = [math.fsum(column) for column in zip(*vectors, strict=True)]
                previous = mean if count else (0.0,) * width
                total = count + len(vectors)
                mean = tuple((m * count + s) / total for m, s in zip(previous, sums, strict=True))
                count = total
            stats = profile.stats
            if callable(stats_update):
                stats = dict(stats_update(dict(stats), profile.count))
            elif stats_update is not None:
                stats = {**stats, **stats_update}
            row = await _upsert(
                conn, user_id, mean, count, stats, profile.preferences, self._db.now()
            )
        return _profile(row)

    async def set_preferences(self, user_id: int, preferences: Mapping[str, Any]) -> StyleProfile:
        async with self._db.transaction() as conn:
            stored = await _select(conn, user_id)
            profile = _profile(stored) if stored is not None else _empty(user_id)
            merged = {**profile.preferences, **preferences}
            kept = {key: value for key, value in merged.items() if value is not None}
            row = await _upsert(
                conn, user_id, profile.vector, profile.count, profile.stats, kept, self._db.now()
            )
        return _profile(row)

    async def delete(self, user_id: int) -> int:
        async with self._db.transaction() as conn:
            return await execute(conn, "DELETE FROM style_profiles WHERE user_id = ?", (user_id,))


def _checked_width(vectors: Sequence[Sequence[float]]) -> int:
    """The common length of the vectors; they must be non-empty, equal-length and finite."""
    widths = {len(vector) for vector in vectors}
    if len(widths) > 1 or 0 in widths:
        raise ValueError(f"style vectors must all have the same, non-zero length; got {widths}")
    if not all(math.isfinite(value) for vector in vectors for value in vector):
        raise ValueError("style vectors must not contain NaN or infinity")
    return widths.pop() if widths else 0


_SELECT = "SELECT * FROM style_profiles WHERE user_id = ?"


def read_profile(conn: sqlite3.Connection, user_id: int) -> StyleProfile | None:
    rows = conn.execute(_SELECT, (user_id,)).fetchall()
    return _profile(rows[0]) if rows else None


async def _select(conn: aiosqlite.Connection, user_id: int) -> sqlite3.Row | None:
    return await fetch_one(conn, _SELECT, (user_id,))


async def _upsert(
    conn: aiosqlite.Connection,
    user_id: int,
    vector: Sequence[float],
    count: int,
    stats: Mapping[str, Any],
    preferences: Mapping[str, Any],
    now: float,
) -> sqlite3.Row:
    row = await fetch_one(
        conn,
        _UPSERT,
        (user_id, pack_vector(vector), count, to_json(stats), to_json(preferences), now),
    )
    assert row is not None
    return row


def _empty(user_id: int) -> StyleProfile:
    return StyleProfile(
        user_id=user_id, vector=(), count=0, stats={}, preferences={}, updated_at=0.0
    )


def _profile(row: Row) -> StyleProfile:
    return StyleProfile(
        user_id=row["user_id"],
        vector=unpack_vector(row["vector"]),
        count=row["count"],
        stats=from_json(row["stats"], {}),
        preferences=from_json(row["preferences"], {}),
        updated_at=row["updated_at"],
    )
