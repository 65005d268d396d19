"""A user's data in SQLite: whether style memory may learn from them, a copy of all of it, and
deleting it.

Deleting keeps the stories readable for the other players: the text of a deleted user's turns
stays, under the byline `FORMER_USER_NAME` and without their id; everything that is only theirs
(characters, style profile, feedback, their seats in stories, their privacy choice) goes.
"""

from __future__ import annotations

import sqlite3

from storage.models import FORMER_USER_ID, FORMER_USER_NAME, Feedback, UserData
from storage.sqlite.characters import _character
from storage.sqlite.database import Database
from storage.sqlite.moderation import _event
from storage.sqlite.stories import _participant
from storage.sqlite.styles import read_profile
from storage.sqlite.turns import _turn


class SqlitePrivacyRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def user_choice(self, user_id: int) -> bool | None:
        return await self._db.run(lambda conn: read_user_choice(conn, user_id))

    async def set_user_choice(self, user_id: int, style_memory: bool | None) -> None:
        now = self._db.now()

        def write(conn: sqlite3.Connection) -> None:
            if style_memory is None:
                conn.execute("DELETE FROM user_privacy WHERE user_id = ?", (user_id,))
                return
            conn.execute(
                "INSERT INTO user_privacy (user_id, style_memory, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT (user_id) DO UPDATE SET style_memory = excluded.style_memory, "
                "updated_at = excluded.updated_at",
                (user_id, int(style_memory), now),
            )

        await self._db.run(write)

    async def guild_default(self, guild_id: int) -> bool:
        return await self._db.run(lambda conn: read_guild_default(conn, guild_id))

    async def set_guild_default(self, guild_id: int, style_memory: bool) -> None:
        now = self._db.now()
        await self._db.run(
            lambda conn: conn.execute(
                "INSERT INTO guild_privacy (guild_id, style_memory_default, updated_at) "
                "VALUES (?, ?, ?) ON CONFLICT (guild_id) DO UPDATE SET "
                "style_memory_default = excluded.style_memory_default, "
                "updated_at = excluded.updated_at",
                (guild_id, int(style_memory), now),
            )
        )

    async def style_memory(self, user_id: int, guild_id: int) -> bool:
        def read(conn: sqlite3.Connection) -> bool:
            choice = read_user_choice(conn, user_id)
            return read_guild_default(conn, guild_id) if choice is None else choice

        return await self._db.run_in_transaction(read, write=False)


def read_user_choice(conn: sqlite3.Connection, user_id: int) -> bool | None:
    row = conn.execute(
        "SELECT style_memory FROM user_privacy WHERE user_id = ?", (user_id,)
    ).fetchone()
    return None if row is None else bool(row[0])


def read_guild_default(conn: sqlite3.Connection, guild_id: int) -> bool:
    row = conn.execute(
        "SELECT style_memory_default FROM guild_privacy WHERE guild_id = ?", (guild_id,)
    ).fetchone()
    return bool(row[0]) if row is not None else False


def read_user_data(conn: sqlite3.Connection, user_id: int) -> UserData:
    """Every row about the user; run it in one read transaction for one snapshot."""

    def rows(sql: str) -> list[sqlite3.Row]:
        return conn.execute(sql, (user_id,) * sql.count("?")).fetchall()

    return UserData(
        user_id=user_id,
        turns=[_turn(row) for row in rows("SELECT * FROM turns WHERE author_id = ? ORDER BY id")],
        characters=[
            _character(row)
            for row in rows("SELECT * FROM characters WHERE owner_id = ? ORDER BY id")
        ],
        participations=[
            _participant(row)
            for row in rows("SELECT * FROM participants WHERE user_id = ? ORDER BY story_id")
        ],
        style=read_profile(conn, user_id),
        style_memory=read_user_choice(conn, user_id),
        feedback=[
            Feedback(row["id"], row["turn_id"], row["user_id"], row["kind"], row["created_at"])
            for row in rows("SELECT * FROM feedback WHERE user_id = ? ORDER BY id")
        ],
        moderation_events=[
            _event(row)
            for row in rows("SELECT * FROM moderation_events WHERE user_id = ? ORDER BY id")
        ],
    )


_DELETIONS: tuple[tuple[str, str], ...] = (
    # Characters first: their turns keep the character's name, their seats and links let go.
    ("characters", "DELETE FROM characters WHERE owner_id = :user"),
    (
        "turns_anonymised",
        "UPDATE turns SET author_id = NULL, author_name = :name WHERE author_id = :user",
    ),
    ("turns_kept_by_you", "UPDATE turns SET accepted_by = NULL WHERE accepted_by = :user"),
    ("participations", "DELETE FROM participants WHERE user_id = :user"),
    ("stories_started", "UPDATE stories SET owner_id = :former WHERE owner_id = :user"),
    (
        "characters_brought_in",
        "UPDATE story_characters SET added_by = :former WHERE added_by = :user",
    ),
    ("feedback", "DELETE FROM feedback WHERE user_id = :user"),
    ("style_profiles", "DELETE FROM style_profiles WHERE user_id = :user"),
    ("privacy_choices", "DELETE FROM user_privacy WHERE user_id = :user"),
    (
        "moderation_events",
        "UPDATE moderation_events SET user_id = NULL WHERE user_id = :user",
    ),
    (
        "moderation_decisions",
        "UPDATE moderation_events SET resolved_by = :former WHERE resolved_by = :user",
    ),
    ("turn_edits", "UPDATE turn_edits SET editor_id = :former WHERE editor_id = :user"),
    ("forks_made", "UPDATE story_forks SET created_by = :former WHERE created_by = :user"),
)


def delete_user_data(conn: sqlite3.Connection, user_id: int) -> dict[str, int]:
    """Delete or anonymise every row about the user; run it in one write transaction.

    Returns the number of rows changed per kind of data.
    """
    if user_id == FORMER_USER_ID:
        raise ValueError(f"user id {FORMER_USER_ID} stands for deleted users and has no data")
    params = {"user": user_id, "former": FORMER_USER_ID, "name": FORMER_USER_NAME}
    return {name: conn.execute(sql, params).rowcount for name, sql in _DELETIONS}
