"""Stories and their participants in PostgreSQL."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import asyncpg

from storage.errors import Conflict, NotFound
from storage.models import (
    Participant,
    Story,
    StorySettings,
    StoryStatus,
    require_choice,
)
from storage.postgres.database import Database
from storage.sqlite.stories import _ONE_OPEN_STORY, _participant, _story, new_story_columns

_OPEN_IN_CHANNEL = (
    "SELECT * FROM stories WHERE coalesce(thread_id, channel_id) = $1 AND status <> 'ended'"
)
_LAST_ENDED_IN_CHANNEL = (
    "SELECT * FROM stories WHERE coalesce(thread_id, channel_id) = $1 AND status = 'ended' "
    "ORDER BY id DESC LIMIT 1"
)
_NEXT_SEAT = (
    "SELECT greatest(coalesce((SELECT max(seat) + 1 FROM participants WHERE story_id = $1), 0), "
    "coalesce((SELECT model_seat + 1 FROM stories WHERE id = $1), 0))"
)
"""The seat after everyone's, the model's included: seats only grow, and never collide."""
_EVERY_PARTICIPANT = "SELECT * FROM participants WHERE story_id = $1 ORDER BY seat"
_ACTIVE_PARTICIPANTS = (
    "SELECT * FROM participants WHERE story_id = $1 AND left_at IS NULL ORDER BY seat"
)


class PostgresStoryRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def create(
        self,
        *,
        guild_id: int,
        channel_id: int,
        owner_id: int,
        settings: StorySettings,
        thread_id: int | None = None,
    ) -> Story:
        values = new_story_columns(
            guild_id, channel_id, thread_id, owner_id, settings, self._db.now()
        )
        places = ", ".join(f"${n}" for n in range(1, len(values) + 1))
        try:
            rows = await self._db.write(
                f"INSERT INTO stories ({', '.join(values)}, status, current_seat) "
                f"VALUES ({places}, 'active', 0) RETURNING *",
                *values.values(),
            )
        except Conflict as exc:
            raise Conflict(_ONE_OPEN_STORY) from exc
        return _story(rows[0])

    async def get(self, story_id: int) -> Story | None:
        row = await self._db.fetchrow("SELECT * FROM stories WHERE id = $1", story_id)
        return None if row is None else _story(row)

    async def get_active_for_channel(self, channel_id: int) -> Story | None:
        row = await self._db.fetchrow(_OPEN_IN_CHANNEL, channel_id)
        return None if row is None else _story(row)

    async def last_ended_for_channel(self, channel_id: int) -> Story | None:
        row = await self._db.fetchrow(_LAST_ENDED_IN_CHANNEL, channel_id)
        return None if row is None else _story(row)

    async def get_active_with_participants(
        self, channel_id: int
    ) -> tuple[Story, list[Participant]] | None:
        async def read(conn: asyncpg.Connection) -> tuple[Story, list[Participant]] | None:
            row = await conn.fetchrow(_OPEN_IN_CHANNEL, channel_id)
            if row is None:
                return None
            story = _story(row)
            return story, await read_participants(conn, story.id)

        return await self._db.read(read)

    async def list_for_guild(
        self,
        guild_id: int,
        *,
        statuses: Collection[StoryStatus] | None = None,
        limit: int = 25,
        offset: int = 0,
    ) -> list[Story]:
        return await self._list("guild_id = $1", guild_id, statuses, limit, offset)

    async def list_for_channel(
        self,
        channel_id: int,
        *,
        statuses: Collection[StoryStatus] | None = None,
        limit: int = 25,
        offset: int = 0,
    ) -> list[Story]:
        return await self._list(
            "(channel_id = $1 OR thread_id = $1)", channel_id, statuses, limit, offset
        )

    async def _list(
        self,
        where: str,
        place: int,
        statuses: Collection[StoryStatus] | None,
        limit: int,
        offset: int,
    ) -> list[Story]:
        chosen = None
        if statuses is not None:
            chosen = [require_choice("status", status, StoryStatus) for status in statuses]
            if not chosen:
                return []
        rows = await self._db.fetch(
            f"SELECT * FROM stories WHERE {where} AND ($2::text[] IS NULL OR status = ANY($2)) "
            "ORDER BY id DESC LIMIT $3 OFFSET $4",
            place,
            chosen,
            limit,
            offset,
        )
        return [_story(row) for row in rows]

    async def update_settings(self, story: Story, settings: StorySettings) -> Story:
        changes = settings.changes_from(story.settings)
        rows = await self._db.update_columns("stories", story.id, changes)
        return _story(_found(rows, story.id))

    async def set_status(self, story_id: int, status: StoryStatus) -> Story:
        require_choice("status", status, StoryStatus)
        now = self._db.now()
        if status == "ended":
            sql = (
                "UPDATE stories SET status = 'ended', turn_deadline = NULL, "
                "ended_at = coalesce(ended_at, $1), updated_at = $1 WHERE id = $2 RETURNING *"
            )
            args: tuple[Any, ...] = (now, story_id)
        else:
            sql = (
                "UPDATE stories SET status = $3, ended_at = NULL, updated_at = $1 "
                "WHERE id = $2 RETURNING *"
            )
            args = (now, story_id, status)
        try:
            rows = await self._db.write(sql, *args)
        except Conflict as exc:
            raise Conflict(
                "Another story has started in this channel or thread since this one ended, "
                "so it cannot be reopened."
            ) from exc
        return _story(_found(rows, story_id))

    async def set_turn(
        self,
        story_id: int,
        current_seat: int,
        turn_deadline: float | None,
        *,
        expect_seat: int | None = None,
    ) -> Story:
        if current_seat < 0:
            raise ValueError(f"current_seat must be >= 0, not {current_seat}")
        now = self._db.now()

        async def work(conn: asyncpg.Connection) -> Story:
            row = await conn.fetchrow(
                "UPDATE stories SET current_seat = $1, turn_deadline = $2, updated_at = $3 "
                "WHERE id = $4 AND ($5::bigint IS NULL OR current_seat = $5) RETURNING *",
                current_seat,
                turn_deadline,
                now,
                story_id,
                expect_seat,
            )
            if row is None and expect_seat is not None:
                seat = await conn.fetchval(
                    "SELECT current_seat FROM stories WHERE id = $1", story_id
                )
                if seat is not None:
                    raise Conflict(
                        f"The turn already moved on (seat {seat}, expected {expect_seat})."
                    )
            return _story(_found([] if row is None else [row], story_id))

        return await self._db.run(work)

    async def set_model_seat(self, story_id: int, seated: bool) -> Story:
        now = self._db.now()
        if seated:
            sql = (
                "UPDATE stories SET model_seat = coalesce(model_seat, (SELECT "
                "coalesce(max(seat) + 1, 0) FROM participants WHERE story_id = stories.id)), "
                "updated_at = $1 WHERE id = $2 RETURNING *"
            )
        else:
            sql = "UPDATE stories SET model_seat = NULL, updated_at = $1 WHERE id = $2 RETURNING *"
        rows = await self._db.write(sql, now, story_id)
        return _story(_found(rows, story_id))

    async def list_due_deadlines(self, now: float, limit: int = 100) -> list[Story]:
        rows = await self._db.fetch(
            "SELECT * FROM stories WHERE status = 'active' AND turn_deadline IS NOT NULL "
            "AND turn_deadline <= $1 ORDER BY turn_deadline LIMIT $2",
            now,
            limit,
        )
        return [_story(row) for row in rows]

    async def add_participant(
        self, story_id: int, user_id: int, display_name: str, *, character_id: int | None = None
    ) -> Participant:
        now = self._db.now()

        async def work(conn: asyncpg.Connection) -> Participant:
            current = await conn.fetchrow(
                "SELECT left_at FROM participants WHERE story_id = $1 AND user_id = $2",
                story_id,
                user_id,
            )
            if current is not None and current["left_at"] is None:
                row = await conn.fetchrow(
                    "UPDATE participants SET display_name = $1, "
                    "character_id = coalesce($2, character_id) "
                    "WHERE story_id = $3 AND user_id = $4 RETURNING *",
                    display_name,
                    character_id,
                    story_id,
                    user_id,
                )
            else:
                seat = await conn.fetchval(_NEXT_SEAT, story_id)
                row = await conn.fetchrow(
                    """
                    INSERT INTO participants AS p (story_id, user_id, display_name, seat,
                        joined_at, left_at, character_id)
                    VALUES ($1, $2, $3, $4, $5, NULL, $6)
                    ON CONFLICT (story_id, user_id) DO UPDATE SET
                        display_name = excluded.display_name,
                        seat = excluded.seat,
                        joined_at = excluded.joined_at,
                        left_at = NULL,
                        character_id = coalesce(excluded.character_id, p.character_id)
                    RETURNING *
                    """,
                    story_id,
                    user_id,
                    display_name,
                    seat,
                    now,
                    character_id,
                )
            assert row is not None
            return _participant(row)

        return await self._db.run(work)

    async def remove_participant(self, story_id: int, user_id: int) -> bool:
        changed = await self._db.write_count(
            "UPDATE participants SET left_at = $1 "
            "WHERE story_id = $2 AND user_id = $3 AND left_at IS NULL",
            self._db.now(),
            story_id,
            user_id,
        )
        return changed > 0

    async def get_participant(self, story_id: int, user_id: int) -> Participant | None:
        row = await self._db.fetchrow(
            "SELECT * FROM participants WHERE story_id = $1 AND user_id = $2", story_id, user_id
        )
        return None if row is None else _participant(row)

    async def list_participants(
        self, story_id: int, *, include_left: bool = False
    ) -> list[Participant]:
        sql = _EVERY_PARTICIPANT if include_left else _ACTIVE_PARTICIPANTS
        return [_participant(row) for row in await self._db.fetch(sql, story_id)]

    async def set_participant_character(
        self, story_id: int, user_id: int, character_id: int | None
    ) -> Participant:
        rows = await self._db.write(
            "UPDATE participants SET character_id = $1 "
            "WHERE story_id = $2 AND user_id = $3 RETURNING *",
            character_id,
            story_id,
            user_id,
        )
        if not rows:
            raise NotFound(f"User {user_id} has not joined story {story_id}.")
        return _participant(rows[0])


def _found(rows: list[asyncpg.Record], story_id: int) -> asyncpg.Record:
    if not rows:
        raise NotFound(f"Story {story_id} does not exist.")
    return rows[0]


async def pass_turn(
    conn: asyncpg.Connection,
    story_id: int,
    seat: int,
    turn_deadline: float | None,
    *,
    expect_seat: int,
    now: float,
) -> Story:
    """Give an active story's turn to `seat` if it still sits at `expect_seat`; raises Conflict
    otherwise, so the caller's transaction (a timeout's stand-in turn) is rolled back with it."""
    row = await conn.fetchrow(
        "UPDATE stories SET current_seat = $1, turn_deadline = $2, updated_at = $3 "
        "WHERE id = $4 AND current_seat = $5 AND status = 'active' RETURNING *",
        seat,
        turn_deadline,
        now,
        story_id,
        expect_seat,
    )
    if row is None:
        raise Conflict(f"The turn of story {story_id} already moved on or the story stopped.")
    return _story(row)


async def read_story(conn: asyncpg.Connection, story_id: int) -> Story | None:
    row = await conn.fetchrow("SELECT * FROM stories WHERE id = $1", story_id)
    return None if row is None else _story(row)


async def read_participants(conn: asyncpg.Connection, story_id: int) -> list[Participant]:
    """Everyone who ever joined, in seat order."""
    return [_participant(row) for row in await conn.fetch(_EVERY_PARTICIPANT, story_id)]
