"""Stories and their participants in SQLite."""

from __future__ import annotations

import sqlite3
from collections.abc import Collection
from typing import Any

from storage.errors import Conflict, NotFound
from storage.models import (
    Participant,
    Story,
    StorySettings,
    StoryStatus,
    require_choice,
)
from storage.sqlite.codec import Row
from storage.sqlite.database import Database
from storage.sqlite.query import execute, fetch_all, fetch_one, fetch_value

_ONE_OPEN_STORY = (
    "This channel or thread already has a story that has not ended; "
    "end it before starting another one here."
)

_OPEN_IN_CHANNEL = (
    "SELECT * FROM stories WHERE coalesce(thread_id, channel_id) = ? AND status <> 'ended'"
)
_LAST_ENDED_IN_CHANNEL = (
    "SELECT * FROM stories WHERE coalesce(thread_id, channel_id) = ? AND status = 'ended' "
    "ORDER BY id DESC LIMIT 1"
)
_NEXT_SEAT = (
    "SELECT max(coalesce((SELECT max(seat) + 1 FROM participants WHERE story_id = ?), 0), "
    "coalesce((SELECT model_seat + 1 FROM stories WHERE id = ?), 0))"
)
"""The seat after everyone's, the model's included: seats only grow, and never collide."""
_EVERY_PARTICIPANT = "SELECT * FROM participants WHERE story_id = ? ORDER BY seat"
_ACTIVE_PARTICIPANTS = (
    "SELECT * FROM participants WHERE story_id = ? AND left_at IS NULL ORDER BY seat"
)


class SqliteStoryRepository:
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
        try:
            async with self._db.transaction() as conn:
                row = await fetch_one(
                    conn,
                    f"INSERT INTO stories ({', '.join(values)}, status, current_seat) "
                    f"VALUES ({', '.join('?' * len(values))}, 'active', 0) RETURNING *",
                    tuple(values.values()),
                )
        except Conflict as exc:
            raise Conflict(_ONE_OPEN_STORY) from exc
        assert row is not None
        return _story(row)

    async def get(self, story_id: int) -> Story | None:
        return await self._db.run(lambda conn: read_story(conn, story_id))

    async def get_active_for_channel(self, channel_id: int) -> Story | None:
        async with self._db.read() as conn:
            row = await fetch_one(conn, _OPEN_IN_CHANNEL, (channel_id,))
        return None if row is None else _story(row)

    async def last_ended_for_channel(self, channel_id: int) -> Story | None:
        async with self._db.read() as conn:
            row = await fetch_one(conn, _LAST_ENDED_IN_CHANNEL, (channel_id,))
        return None if row is None else _story(row)

    async def get_active_with_participants(
        self, channel_id: int
    ) -> tuple[Story, list[Participant]] | None:
        def read(conn: sqlite3.Connection) -> tuple[Story, list[Participant]] | None:
            rows = conn.execute(_OPEN_IN_CHANNEL, (channel_id,)).fetchall()
            if not rows:
                return None
            story = _story(rows[0])
            return story, read_participants(conn, story.id)

        return await self._db.run_in_transaction(read, write=False)

    async def list_for_guild(
        self,
        guild_id: int,
        *,
        statuses: Collection[StoryStatus] | None = None,
        limit: int = 25,
        offset: int = 0,
    ) -> list[Story]:
        return await self._list("guild_id = ?", (guild_id,), statuses, limit, offset)

    async def list_for_channel(
        self,
        channel_id: int,
        *,
        statuses: Collection[StoryStatus] | None = None,
        limit: int = 25,
        offset: int = 0,
    ) -> list[Story]:
        return await self._list(
            "(channel_id = ? OR thread_id = ?)", (channel_id, channel_id), statuses, limit, offset
        )

    async def _list(
        self,
        where: str,
        params: tuple[Any, ...],
        statuses: Collection[StoryStatus] | None,
        limit: int,
        offset: int,
    ) -> list[Story]:
        if statuses is not None:
            chosen = [require_choice("status", status, StoryStatus) for status in statuses]
            if not chosen:
                return []
            where += f" AND status IN ({', '.join('?' * len(chosen))})"
            params += tuple(chosen)
        async with self._db.read() as conn:
            rows = await fetch_all(
                conn,
                f"SELECT * FROM stories WHERE {where} ORDER BY id DESC LIMIT ? OFFSET ?",
                (*params, limit, offset),
            )
        return [_story(row) for row in rows]

    async def update_settings(self, story: Story, settings: StorySettings) -> Story:
        changes = settings.changes_from(story.settings)
        assignments = "".join(f"{name} = ?, " for name in changes)
        async with self._db.transaction() as conn:
            row = await fetch_one(
                conn,
                f"UPDATE stories SET {assignments}updated_at = ? WHERE id = ? RETURNING *",
                (*changes.values(), self._db.now(), story.id),
            )
        return _story(_found(row, story.id))

    async def set_status(self, story_id: int, status: StoryStatus) -> Story:
        require_choice("status", status, StoryStatus)
        now = self._db.now()
        if status == "ended":
            sql = (
                "UPDATE stories SET status = 'ended', turn_deadline = NULL, "
                "ended_at = coalesce(ended_at, ?), updated_at = ? WHERE id = ? RETURNING *"
            )
            params: tuple[Any, ...] = (now, now, story_id)
        else:
            sql = (
                "UPDATE stories SET status = ?, ended_at = NULL, updated_at = ? "
                "WHERE id = ? RETURNING *"
            )
            params = (status, now, story_id)
        try:
            async with self._db.transaction() as conn:
                row = await fetch_one(conn, sql, params)
        except Conflict as exc:
            raise Conflict(
                "Another story has started in this channel or thread since this one ended, "
                "so it cannot be reopened."
            ) from exc
        return _story(_found(row, story_id))

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
        sql = "UPDATE stories SET current_seat = ?, turn_deadline = ?, updated_at = ? WHERE id = ?"
        params: tuple[Any, ...] = (current_seat, turn_deadline, self._db.now(), story_id)
        if expect_seat is not None:
            sql += " AND current_seat = ?"
            params += (expect_seat,)
        async with self._db.transaction() as conn:
            row = await fetch_one(conn, sql + " RETURNING *", params)
            if row is None and expect_seat is not None:
                seat = await fetch_value(
                    conn, "SELECT current_seat FROM stories WHERE id = ?", (story_id,)
                )
                if seat is not None:
                    raise Conflict(
                        f"The turn already moved on (seat {seat}, expected {expect_seat})."
                    )
        return _story(_found(row, story_id))

    async def set_model_seat(self, story_id: int, seated: bool) -> Story:
        now = self._db.now()
        if seated:
            sql = (
                "UPDATE stories SET model_seat = coalesce(model_seat, (SELECT "
                "coalesce(max(seat) + 1, 0) FROM participants WHERE story_id = stories.id)), "
                "updated_at = ? WHERE id = ? RETURNING *"
            )
        else:
            sql = "UPDATE stories SET model_seat = NULL, updated_at = ? WHERE id = ? RETURNING *"
        async with self._db.transaction() as conn:
            row = await fetch_one(conn, sql, (now, story_id))
        return _story(_found(row, story_id))

    async def list_due_deadlines(self, now: float, limit: int = 100) -> list[Story]:
        async with self._db.read() as conn:
            rows = await fetch_all(
                conn,
                "SELECT * FROM stories WHERE status = 'active' AND turn_deadline IS NOT NULL "
                "AND turn_deadline <= ? ORDER BY turn_deadline LIMIT ?",
                (now, limit),
            )
        return [_story(row) for row in rows]

    async def add_participant(
        self, story_id: int, user_id: int, display_name: str, *, character_id: int | None = None
    ) -> Participant:
        now = self._db.now()
        async with self._db.transaction() as conn:
            current = await fetch_one(
                conn,
                "SELECT left_at FROM participants WHERE story_id = ? AND user_id = ?",
                (story_id, user_id),
            )
            if current is not None and current["left_at"] is None:
                row = await fetch_one(
                    conn,
                    "UPDATE participants SET display_name = ?, "
                    "character_id = coalesce(?, character_id) "
                    "WHERE story_id = ? AND user_id = ? RETURNING *",
                    (display_name, character_id, story_id, user_id),
                )
            else:
                seat = await fetch_value(conn, _NEXT_SEAT, (story_id, story_id))
                row = await fetch_one(
                    conn,
                    """
                    INSERT INTO participants (story_id, user_id, display_name, seat, joined_at,
                        left_at, character_id)
                    VALUES (?, ?, ?, ?, ?, NULL, ?)
                    ON CONFLICT (story_id, user_id) DO UPDATE SET
                        display_name = excluded.display_name,
                        seat = excluded.seat,
                        joined_at = excluded.joined_at,
                        left_at = NULL,
                        character_id = coalesce(excluded.character_id, character_id)
                    RETURNING *
                    """,
                    (story_id, user_id, display_name, seat, now, character_id),
                )
        assert row is not None
        return _participant(row)

    async def remove_participant(self, story_id: int, user_id: int) -> bool:
        async with self._db.transaction() as conn:
            changed = await execute(
                conn,
                "UPDATE participants SET left_at = ? "
                "WHERE story_id = ? AND user_id = ? AND left_at IS NULL",
                (self._db.now(), story_id, user_id),
            )
        return changed > 0

    async def get_participant(self, story_id: int, user_id: int) -> Participant | None:
        async with self._db.read() as conn:
            row = await fetch_one(
                conn,
                "SELECT * FROM participants WHERE story_id = ? AND user_id = ?",
                (story_id, user_id),
            )
        return None if row is None else _participant(row)

    async def list_participants(
        self, story_id: int, *, include_left: bool = False
    ) -> list[Participant]:
        sql = _EVERY_PARTICIPANT if include_left else _ACTIVE_PARTICIPANTS
        async with self._db.read() as conn:
            rows = await fetch_all(conn, sql, (story_id,))
        return [_participant(row) for row in rows]

    async def set_participant_character(
        self, story_id: int, user_id: int, character_id: int | None
    ) -> Participant:
        async with self._db.transaction() as conn:
            row = await fetch_one(
                conn,
                "UPDATE participants SET character_id = ? "
                "WHERE story_id = ? AND user_id = ? RETURNING *",
                (character_id, story_id, user_id),
            )
        if row is None:
            raise NotFound(f"User {user_id} has not joined story {story_id}.")
        return _participant(row)


def new_story_columns(
    guild_id: int,
    channel_id: int,
    thread_id: int | None,
    owner_id: int,
    settings: StorySettings,
    now: float,
) -> dict[str, Any]:
    """Column name -> value of a new story (both backends insert these), its settings checked."""
    return {
        "guild_id": guild_id,
        "channel_id": channel_id,
        "thread_id": thread_id,
        "owner_id": owner_id,
        **settings.columns(),
        "created_at": now,
        "updated_at": now,
    }


def _found(row: sqlite3.Row | None, story_id: int) -> sqlite3.Row:
    if row is None:
        raise NotFound(f"Story {story_id} does not exist.")
    return row


def pass_turn(
    conn: sqlite3.Connection,
    story_id: int,
    seat: int,
    turn_deadline: float | None,
    *,
    expect_seat: int,
    now: float,
) -> Story:
    """Give an active story's turn to `seat` if it still sits at `expect_seat`; raises Conflict
    otherwise, so the caller's transaction (a timeout's stand-in turn) is rolled back with it."""
    rows = conn.execute(
        "UPDATE stories SET current_seat = ?, turn_deadline = ?, updated_at = ? "
        "WHERE id = ? AND current_seat = ? AND status = 'active' RETURNING *",
        (seat, turn_deadline, now, story_id, expect_seat),
    ).fetchall()
    if not rows:
        raise Conflict(f"The turn of story {story_id} already moved on or the story stopped.")
    return _story(rows[0])


def read_story(conn: sqlite3.Connection, story_id: int) -> Story | None:
    rows = conn.execute("SELECT * FROM stories WHERE id = ?", (story_id,)).fetchall()
    return _story(rows[0]) if rows else None


def read_participants(conn: sqlite3.Connection, story_id: int) -> list[Participant]:
    """Everyone who ever joined, in seat order."""
    return [_participant(row) for row in conn.execute(_EVERY_PARTICIPANT, (story_id,)).fetchall()]


def _story(row: Row) -> Story:
    return Story(
        id=row["id"],
        guild_id=row["guild_id"],
        channel_id=row["channel_id"],
        thread_id=row["thread_id"],
        owner_id=row["owner_id"],
        title=row["title"],
        genre=row["genre"],
        mood=row["mood"],
        premise=row["premise"],
        mode=row["mode"],
        turn_timeout_s=row["turn_timeout_s"],
        timeout_action=row["timeout_action"],
        reroll_policy=row["reroll_policy"],
        style_matching=bool(row["style_matching"]),
        model_id=row["model_id"],
        status=row["status"],
        current_seat=row["current_seat"],
        turn_deadline=row["turn_deadline"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        ended_at=row["ended_at"],
        model_seat=row["model_seat"],
        model_voice=row["model_voice"],
    )


def _participant(row: Row) -> Participant:
    return Participant(
        story_id=row["story_id"],
        user_id=row["user_id"],
        display_name=row["display_name"],
        seat=row["seat"],
        joined_at=row["joined_at"],
        left_at=row["left_at"],
        character_id=row["character_id"],
    )
