"""Per-user style profiles in PostgreSQL (one profile per user, shared across guilds)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import asyncpg

from storage.models import StyleProfile
from storage.postgres.database import Database, one_row
from storage.repositories import StatsUpdate
from storage.sqlite.codec import pack_vector, to_json
from storage.sqlite.styles import _checked_width, _empty, _profile

_SELECT = "SELECT * FROM style_profiles WHERE user_id = $1"
_UPSERT = """
    INSERT INTO style_profiles (user_id, vector, count, stats, preferences, updated_at)
    VALUES ($1, $2, $3, $4, $5, $6)
    ON CONFLICT (user_id) DO UPDATE SET
        vector = excluded.vector,
        count = excluded.count,
        stats = excluded.stats,
        preferences = excluded.preferences,
        updated_at = excluded.updated_at
    RETURNING *
"""


class PostgresStyleRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def get(self, user_id: int) -> StyleProfile | None:
        row = await self._db.fetchrow(_SELECT, user_id)
        return None if row is None else _profile(row)

    async def add_vectors(
        self,
        user_id: int,
        vectors: Sequence[Sequence[float]],
        stats_update: StatsUpdate | None = None,
    ) -> StyleProfile:
        width = _checked_width(vectors)
        now = self._db.now()

        async def work(conn: asyncpg.Connection) -> StyleProfile:
            stored = await conn.fetchrow(_SELECT, user_id)
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
            return await _upsert(conn, user_id, mean, count, stats, profile.preferences, now)

        return await self._db.run(work)

    async def set_preferences(self, user_id: int, preferences: Mapping[str, Any]) -> StyleProfile:
        now = self._db.now()

        async def work(conn: asyncpg.Connection) -> StyleProfile:
            stored = await conn.fetchrow(_SELECT, user_id)
            profile = _profile(stored) if stored is not None else _empty(user_id)
            merged = {**profile.preferences, **preferences}
            kept = {key: value for key, value in merged.items() if value is not None}
            return await _upsert(
                conn, user_id, profile.vector, profile.count, profile.stats, kept, now
            )

        return await self._db.run(work)

    async def delete(self, user_id: int) -> int:
        return await self._db.write_count("DELETE FROM style_profiles WHERE user_id = $1", user_id)


async def read_profile(conn: asyncpg.Connection, user_id: int) -> StyleProfile | None:
    row = await conn.fetchrow(_SELECT, user_id)
    return None if row is None else _profile(row)


async def _upsert(
    conn: asyncpg.Connection,
    user_id: int,
    vector: Sequence[float],
    count: int,
    stats: Mapping[str, Any],
    preferences: Mapping[str, Any],
    now: float,
) -> StyleProfile:
    row = await one_row(
        conn,
        _UPSERT,
        user_id,
        pack_vector(vector),
        count,
        to_json(stats),
        to_json(preferences),
        now,
    )
    return _profile(row)
