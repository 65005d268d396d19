"""Forks in PostgreSQL: a new story that starts as another one did up to a turn, in one
transaction (what is copied is described in storage/sqlite/forks.py)."""

from __future__ import annotations

import asyncpg

from storage.errors import Conflict, NotFound
from storage.models import ForkLink, Story
from storage.postgres.database import Database, one_value
from storage.postgres.stories import read_story
from storage.sqlite.forks import _TURN_COLUMNS, COPIED_WITH_STORY, NOT_COPIED, _link


class PostgresForkRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def fork(
        self,
        parent_id: int,
        at_slot: int,
        *,
        channel_id: int,
        thread_id: int | None,
        owner_id: int,
        owner_name: str,
    ) -> Story:
        now = self._db.now()

        async def work(conn: asyncpg.Connection) -> Story:
            if await read_story(conn, parent_id) is None:
                raise NotFound(f"Story {parent_id} does not exist.")
            story_id = await _copy_story(conn, parent_id, channel_id, thread_id, owner_id, now)
            await conn.execute(
                f"INSERT INTO turns (story_id, slot, alt_index, {_TURN_COLUMNS}, state, hidden, "
                "created_at, shown_seq) "
                f"SELECT $1::bigint, row_number() OVER (ORDER BY slot) - 1, 0, {_TURN_COLUMNS}, "
                "'accepted', false, created_at, 1 FROM turns "
                "WHERE story_id = $2 AND state = 'accepted' AND NOT hidden AND slot <= $3 "
                "ORDER BY slot",
                story_id,
                parent_id,
                at_slot,
            )
            await conn.execute(
                "INSERT INTO participants (story_id, user_id, display_name, seat, joined_at) "
                "VALUES ($1, $2, $3, 0, $4)",
                story_id,
                owner_id,
                owner_name,
                now,
            )
            await conn.execute(
                "INSERT INTO story_characters (story_id, character_id, added_by, added_at) "
                "SELECT $1::bigint, character_id, added_by, added_at FROM story_characters "
                "WHERE story_id = $2",
                story_id,
                parent_id,
            )
            for table, columns in COPIED_WITH_STORY.items():
                await conn.execute(
                    f"INSERT INTO {table} (story_id, {columns}) "
                    f"SELECT $1::bigint, {columns} FROM {table} WHERE story_id = $2",
                    story_id,
                    parent_id,
                )
            await conn.execute(
                "INSERT INTO story_forks (story_id, parent_id, at_slot, created_by, created_at) "
                "VALUES ($1, $2, $3, $4, $5)",
                story_id,
                parent_id,
                at_slot,
                owner_id,
                now,
            )
            forked = await read_story(conn, story_id)
            assert forked is not None
            return forked

        return await self._db.run(work)

    async def links(self, story_id: int) -> tuple[ForkLink | None, list[ForkLink]]:
        """Where the story was forked from (None for an original), and its own forks."""

        async def read(conn: asyncpg.Connection) -> tuple[ForkLink | None, list[ForkLink]]:
            parent = await conn.fetchrow("SELECT * FROM story_forks WHERE story_id = $1", story_id)
            forks = await conn.fetch(
                "SELECT * FROM story_forks WHERE parent_id = $1 ORDER BY story_id", story_id
            )
            return (None if parent is None else _link(parent)), [_link(row) for row in forks]

        return await self._db.read(read)


async def _copy_story(
    conn: asyncpg.Connection,
    parent_id: int,
    channel_id: int,
    thread_id: int | None,
    owner_id: int,
    now: float,
) -> int:
    columns = await conn.fetch(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name = 'stories' "
        "ORDER BY ordinal_position"
    )
    settings = ", ".join(row[0] for row in columns if row[0] not in NOT_COPIED)
    try:
        async with conn.transaction():
            return int(
                await one_value(
                    conn,
                    f"INSERT INTO stories (channel_id, thread_id, owner_id, status, current_seat, "
                    f"created_at, updated_at, {settings}) "
                    f"SELECT $1::bigint, $2::bigint, $3::bigint, 'active', 0, $4::double precision,"
                    f" $4::double precision, {settings} FROM stories WHERE id = $5 RETURNING id",
                    channel_id,
                    thread_id,
                    owner_id,
                    now,
                    parent_id,
                )
            )
    except asyncpg.UniqueViolationError as exc:
        raise Conflict("That place already has a story that has not ended.") from exc
