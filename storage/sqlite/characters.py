"""Character sheets and their links to stories in SQLite."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

import aiosqlite

from storage.errors import Conflict, LimitReached, NotFound
from storage.models import Character, StoryCharacter
from storage.sqlite.codec import Row, checked_name_key, from_json, name_key, string_list_json
from storage.sqlite.database import Database
from storage.sqlite.query import execute, fetch_all, fetch_one

_TEXT_FIELDS = ("description", "personality", "speech_style", "backstory", "first_message")
_FIELDS = frozenset({"name", "tags", "card_json", *_TEXT_FIELDS})
_PREFIX_END = "\U0010ffff"  # sorts after any text that starts with the prefix


class SqliteCharacterRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def create(
        self,
        guild_id: int,
        owner_id: int,
        name: str,
        *,
        description: str = "",
        personality: str = "",
        speech_style: str = "",
        backstory: str = "",
        first_message: str = "",
        tags: Sequence[str] = (),
        card_json: str | None = None,
        max_per_owner: int | None = None,
    ) -> Character:
        key = _checked_key(name)
        now = self._db.now()
        try:
            async with self._db.transaction() as conn:
                if max_per_owner is not None:
                    await _require_room(conn, guild_id, owner_id, max_per_owner)
                row = await fetch_one(
                    conn,
                    """
                    INSERT INTO characters (guild_id, owner_id, name, name_key, description,
                        personality, speech_style, backstory, first_message, tags, card_json,
                        created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    RETURNING *
                    """,
                    (
                        guild_id,
                        owner_id,
                        name,
                        key,
                        description,
                        personality,
                        speech_style,
                        backstory,
                        first_message,
                        _tags_json(tags),
                        card_json,
                        now,
                        now,
                    ),
                )
        except LimitReached:
            raise
        except Conflict as exc:
            raise _duplicate(name) from exc
        assert row is not None
        return _character(row)

    async def get(self, character_id: int) -> Character | None:
        async with self._db.read() as conn:
            row = await fetch_one(conn, "SELECT * FROM characters WHERE id = ?", (character_id,))
        return None if row is None else _character(row)

    async def get_by_name(
        self, guild_id: int, name: str, owner_id: int | None = None
    ) -> Character | None:
        sql = "SELECT * FROM characters WHERE guild_id = ? AND name_key = ?"
        params: tuple[Any, ...] = (guild_id, name_key(name))
        if owner_id is not None:
            sql += " AND owner_id = ?"
            params += (owner_id,)
        async with self._db.read() as conn:
            row = await fetch_one(conn, sql + " ORDER BY id LIMIT 1", params)
        return None if row is None else _character(row)

    async def list_for_guild(
        self, guild_id: int, *, limit: int = 25, offset: int = 0
    ) -> list[Character]:
        async with self._db.read() as conn:
            rows = await fetch_all(
                conn,
                "SELECT * FROM characters WHERE guild_id = ? "
                "ORDER BY name_key, id LIMIT ? OFFSET ?",
                (guild_id, limit, offset),
            )
        return [_character(row) for row in rows]

    async def list_for_owner(self, guild_id: int, owner_id: int) -> list[Character]:
        async with self._db.read() as conn:
            rows = await fetch_all(
                conn,
                "SELECT * FROM characters WHERE guild_id = ? AND owner_id = ? ORDER BY name_key",
                (guild_id, owner_id),
            )
        return [_character(row) for row in rows]

    async def search_names(
        self, guild_id: int, prefix: str, limit: int = 25, *, owner_id: int | None = None
    ) -> list[str]:
        start = name_key(prefix)
        sql = "SELECT DISTINCT name, name_key FROM characters WHERE guild_id = ? "
        sql += "AND name_key >= ? AND name_key < ?"
        params: tuple[Any, ...] = (guild_id, start, start + _PREFIX_END)
        if owner_id is not None:
            sql += " AND owner_id = ?"
            params += (owner_id,)
        async with self._db.read() as conn:
            rows = await fetch_all(conn, sql + " ORDER BY name_key, name LIMIT ?", (*params, limit))
        return [row["name"] for row in rows]

    async def update(self, character_id: int, **changes: Any) -> Character:
        unknown = sorted(set(changes) - _FIELDS)
        if unknown:
            raise ValueError(f"not a character field: {', '.join(unknown)}")
        columns = dict(changes)
        if "name" in columns:
            columns["name_key"] = _checked_key(columns["name"])
        if "tags" in columns:
            columns["tags"] = _tags_json(columns["tags"])
        assignments = "".join(f"{column} = ?, " for column in columns)
        try:
            async with self._db.transaction() as conn:
                row = await fetch_one(
                    conn,
                    f"UPDATE characters SET {assignments}updated_at = ? WHERE id = ? RETURNING *",
                    (*columns.values(), self._db.now(), character_id),
                )
        except Conflict as exc:
            raise _duplicate(str(changes.get("name", ""))) from exc
        if row is None:
            raise NotFound(f"Character {character_id} does not exist.")
        return _character(row)

    async def delete(self, character_id: int) -> bool:
        async with self._db.transaction() as conn:
            deleted = await execute(conn, "DELETE FROM characters WHERE id = ?", (character_id,))
        return deleted > 0

    async def link(self, story_id: int, character_id: int, added_by: int) -> StoryCharacter:
        async with self._db.transaction() as conn:
            await conn.execute(
                "INSERT INTO story_characters (story_id, character_id, added_by, added_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (story_id, character_id, added_by, self._db.now()),
            )
            row = await fetch_one(
                conn,
                "SELECT * FROM story_characters WHERE story_id = ? AND character_id = ?",
                (story_id, character_id),
            )
        assert row is not None
        return StoryCharacter(
            story_id=row["story_id"],
            character_id=row["character_id"],
            added_by=row["added_by"],
            added_at=row["added_at"],
        )

    async def unlink(self, story_id: int, character_id: int) -> bool:
        async with self._db.transaction() as conn:
            deleted = await execute(
                conn,
                "DELETE FROM story_characters WHERE story_id = ? AND character_id = ?",
                (story_id, character_id),
            )
        return deleted > 0

    async def list_for_story(self, story_id: int) -> list[Character]:
        return await self._db.run(lambda conn: read_for_story(conn, story_id))


def read_for_story(conn: sqlite3.Connection, story_id: int) -> list[Character]:
    rows = conn.execute(
        "SELECT c.* FROM story_characters AS sc JOIN characters AS c "
        "ON c.id = sc.character_id WHERE sc.story_id = ? ORDER BY sc.added_at, c.id",
        (story_id,),
    ).fetchall()
    return [_character(row) for row in rows]


async def _require_room(
    conn: aiosqlite.Connection, guild_id: int, owner_id: int, most: int
) -> None:
    row = await fetch_one(
        conn,
        "SELECT COUNT(*) AS n FROM characters WHERE guild_id = ? AND owner_id = ?",
        (guild_id, owner_id),
    )
    if row is not None and row["n"] >= most:
        raise LimitReached(f"The owner already has {row['n']} characters here (at most {most}).")


def _checked_key(name: str) -> str:
    return checked_name_key(name, "a character")


def _tags_json(tags: Sequence[str]) -> str:
    return string_list_json(tags, "tags")


def _duplicate(name: str) -> Conflict:
    return Conflict(
        f'You already have a character called "{name.strip()}" here (names ignore case); '
        "pick another name or edit that character."
    )


def _character(row: Row) -> Character:
    return Character(
        id=row["id"],
        guild_id=row["guild_id"],
        owner_id=row["owner_id"],
        name=row["name"],
        description=row["description"],
        personality=row["personality"],
        speech_style=row["speech_style"],
        backstory=row["backstory"],
        first_message=row["first_message"],
        tags=tuple(from_json(row["tags"], [])),
        card_json=row["card_json"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )
