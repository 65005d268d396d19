"""A user's data in PostgreSQL: whether style memory may learn from them, a copy of all of it,
and deleting it (the rules are those of storage/sqlite/privacy.py)."""

from __future__ import annotations

import re

import asyncpg

from storage.models import FORMER_USER_ID, FORMER_USER_NAME, Feedback, UserData
from storage.postgres.database import Database, changed
from storage.postgres.styles import read_profile
from storage.sqlite import privacy as sqlite_privacy
from storage.sqlite.characters import _character
from storage.sqlite.moderation import _event
from storage.sqlite.stories import _participant
from storage.sqlite.turns import _turn

_NAMED = re.compile(r":(user|former|name)\b")


def _numbered(sql: str) -> tuple[str, tuple[str, ...]]:
    """A statement of SQLite's `_DELETIONS` (one list for both backends) with its named
    parameters numbered for PostgreSQL, and the names in number order (PostgreSQL wants
    exactly the parameters a statement uses)."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        if match[1] not in names:
            names.append(match[1])
        return f"${names.index(match[1]) + 1}"

    return _NAMED.sub(number, sql), tuple(names)


class PostgresPrivacyRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def user_choice(self, user_id: int) -> bool | None:
        return await self._db.read(lambda conn: read_user_choice(conn, user_id))

    async def set_user_choice(self, user_id: int, style_memory: bool | None) -> None:
        if style_memory is None:
            await self._db.write_count("DELETE FROM user_privacy WHERE user_id = $1", user_id)
            return
        await self._db.write_count(
            "INSERT INTO user_privacy (user_id, style_memory, updated_at) VALUES ($1, $2, $3) "
            "ON CONFLICT (user_id) DO UPDATE SET style_memory = excluded.style_memory, "
            "updated_at = excluded.updated_at",
            user_id,
            bool(style_memory),
            self._db.now(),
        )

    async def guild_default(self, guild_id: int) -> bool:
        return await self._db.read(lambda conn: read_guild_default(conn, guild_id))

    async def set_guild_default(self, guild_id: int, style_memory: bool) -> None:
        await self._db.write_count(
            "INSERT INTO guild_privacy (guild_id, style_memory_default, updated_at) "
            "VALUES ($1, $2, $3) ON CONFLICT (guild_id) DO UPDATE SET "
            "style_memory_default = excluded.style_memory_default, "
            "updated_at = excluded.updated_at",
            guild_id,
            bool(style_memory),
            self._db.now(),
        )

    async def style_memory(self, user_id: int, guild_id: int) -> bool:
        async def read(conn: asyncpg.Connection) -> bool:
            choice = await read_user_choice(conn, user_id)
            return await read_guild_default(conn, guild_id) if choice is None else choice

        return await self._db.read(read)


async def read_user_choice(conn: asyncpg.Connection, user_id: int) -> bool | None:
    value = await conn.fetchval("SELECT style_memory FROM user_privacy WHERE user_id = $1", user_id)
    return None if value is None else bool(value)


async def read_guild_default(conn: asyncpg.Connection, guild_id: int) -> bool:
    value = await conn.fetchval(
        "SELECT style_memory_default FROM guild_privacy WHERE guild_id = $1", guild_id
    )
    return bool(value) if value is not None else False


async def read_user_data(conn: asyncpg.Connection, user_id: int) -> UserData:
    """Every row about the user; run it in one read transaction for one snapshot."""

    async def rows(sql: str) -> list[asyncpg.Record]:
        return await conn.fetch(sql, user_id)

    turns = await rows("SELECT * FROM turns WHERE author_id = $1 ORDER BY id")
    characters = await rows("SELECT * FROM characters WHERE owner_id = $1 ORDER BY id")
    seats = await rows("SELECT * FROM participants WHERE user_id = $1 ORDER BY story_id")
    feedback = await rows("SELECT * FROM feedback WHERE user_id = $1 ORDER BY id")
    events = await rows("SELECT * FROM moderation_events WHERE user_id = $1 ORDER BY id")
    return UserData(
        user_id=user_id,
        turns=[_turn(row) for row in turns],
        characters=[_character(row) for row in characters],
        participations=[_participant(row) for row in seats],
        style=await read_profile(conn, user_id),
        style_memory=await read_user_choice(conn, user_id),
        feedback=[
            Feedback(row["id"], row["turn_id"], row["user_id"], row["kind"], row["created_at"])
            for row in feedback
        ],
        moderation_events=[_event(row) for row in events],
    )


async def delete_user_data(conn: asyncpg.Connection, user_id: int) -> dict[str, int]:
    """Delete or anonymise every row about the user; run it in one write transaction.

    Returns the number of rows changed per kind of data.
    """
    if user_id == FORMER_USER_ID:
        raise ValueError(f"user id {FORMER_USER_ID} stands for deleted users and has no data")
    values = {"user": user_id, "former": FORMER_USER_ID, "name": FORMER_USER_NAME}
    counts = {}
    for kind, named in sqlite_privacy._DELETIONS:
        sql, names = _numbered(named)
        counts[kind] = changed(await conn.execute(sql, *(values[name] for name in names)))
    return counts
