"""Forks in SQLite: a new story that starts as another one did up to a turn, in one transaction.

The fork copies every column of the parent's row that is a setting (so settings added by later
migrations come along), its accepted, visible turns up to `at_slot` (numbered from 0 again),
its characters, and its own lore where the lore tables exist (`COPIED_WITH_STORY`); the forker
owns it and holds its first seat. The parent is only read.
"""

from __future__ import annotations

import sqlite3

from storage.errors import Conflict, NotFound
from storage.models import ForkLink, Story
from storage.sqlite.codec import Row
from storage.sqlite.database import Database
from storage.sqlite.stories import read_story

NOT_COPIED = {
    "id",
    "channel_id",
    "thread_id",
    "owner_id",
    "status",
    "current_seat",
    "turn_deadline",
    "created_at",
    "updated_at",
    "ended_at",
}
"""Columns of stories that belong to the place and the run of a story, not to its settings."""

_TURN_COLUMNS = (
    "author_kind, author_id, author_name, accepted_by, character_id, character_name, kind, "
    "text, model_id, params_json, score, moderation_json"
)

COPIED_WITH_STORY = {
    "story_memory": "text, updated_at",
    "lore_entries": "guild_id, name, name_key, keys, text, constant, priority, created_at, "
    "updated_at",
}
"""Per-story tables a fork copies, with the columns it copies besides story_id (a table that
does not exist in this database is skipped); a new per-story table adds itself here."""


class SqliteForkRepository:
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

        def work(conn: sqlite3.Connection) -> Story:
            if read_story(conn, parent_id) is None:
                raise NotFound(f"Story {parent_id} does not exist.")
            story_id = _copy_story(conn, parent_id, channel_id, thread_id, owner_id, now)
            conn.execute(
                f"INSERT INTO turns (story_id, slot, alt_index, {_TURN_COLUMNS}, state, hidden, "
                "created_at, shown_seq) "
                f"SELECT ?, row_number() OVER (ORDER BY slot) - 1, 0, {_TURN_COLUMNS}, "
                "'accepted', 0, created_at, 1 FROM turns "
                "WHERE story_id = ? AND state = 'accepted' AND hidden = 0 AND slot <= ? "
                "ORDER BY slot",
                (story_id, parent_id, at_slot),
            )
            conn.execute(
                "INSERT INTO participants (story_id, user_id, display_name, seat, joined_at) "
                "VALUES (?, ?, ?, 0, ?)",
                (story_id, owner_id, owner_name, now),
            )
            conn.execute(
                "INSERT INTO story_characters (story_id, character_id, added_by, added_at) "
                "SELECT ?, character_id, added_by, added_at FROM story_characters "
                "WHERE story_id = ?",
                (story_id, parent_id),
            )
            _copy_lore(conn, parent_id, story_id)
            conn.execute(
                "INSERT INTO story_forks (story_id, parent_id, at_slot, created_by, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (story_id, parent_id, at_slot, owner_id, now),
            )
            forked = read_story(conn, story_id)
            assert forked is not None
            return forked

        return await self._db.run_in_transaction(work)

    async def links(self, story_id: int) -> tuple[ForkLink | None, list[ForkLink]]:
        """Where the story was forked from (None for an original), and its own forks."""

        def read(conn: sqlite3.Connection) -> tuple[ForkLink | None, list[ForkLink]]:
            parent = conn.execute(
                "SELECT * FROM story_forks WHERE story_id = ?", (story_id,)
            ).fetchone()
            forks = conn.execute(
                "SELECT * FROM story_forks WHERE parent_id = ? ORDER BY story_id", (story_id,)
            ).fetchall()
            return (None if parent is None else _link(parent)), [_link(row) for row in forks]

        return await self._db.run(read)


def _copy_story(
    conn: sqlite3.Connection,
    parent_id: int,
    channel_id: int,
    thread_id: int | None,
    owner_id: int,
    now: float,
) -> int:
    columns = [row["name"] for row in conn.execute("PRAGMA table_info(stories)")]
    settings = ", ".join(name for name in columns if name not in NOT_COPIED)
    try:
        row = conn.execute(
            f"INSERT INTO stories (channel_id, thread_id, owner_id, status, current_seat, "
            f"created_at, updated_at, {settings}) "
            f"SELECT ?, ?, ?, 'active', 0, ?, ?, {settings} FROM stories WHERE id = ? "
            "RETURNING id",
            (channel_id, thread_id, owner_id, now, now, parent_id),
        ).fetchone()
    except sqlite3.IntegrityError as exc:
        raise Conflict("That place already has a story that has not ended.") from exc
    return int(row["id"])


def _copy_lore(conn: sqlite3.Connection, parent_id: int, story_id: int) -> None:
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    for table, columns in COPIED_WITH_STORY.items():
        if table in tables:
            conn.execute(
                f"INSERT INTO {table} (story_id, {columns}) "
                f"SELECT ?, {columns} FROM {table} WHERE story_id = ?",
                (story_id, parent_id),
            )


def _link(row: Row) -> ForkLink:
    return ForkLink(
        story_id=row["story_id"],
        parent_id=row["parent_id"],
        at_slot=row["at_slot"],
        created_by=row["created_by"],
        created_at=row["created_at"],
    )
