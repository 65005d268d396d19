"""Character sheets and their links to stories in PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg

from storage.errors import Conflict, LimitReached, NotFound
from storage.models import Character, StoryCharacter
from storage.postgres.database import Database, one_row, one_value
from storage.sqlite.characters import (
    _FIELDS,
    _PREFIX_END,
    _character,
    _checked_key,
    _duplicate,
    _tags_json,
)
from storage.sqlite.codec import name_key

_FOR_STORY = (
    "SELECT c.* FROM story_characters AS sc JOIN characters AS c "
    "ON c.id = sc.character_id WHERE sc.story_id = $1 ORDER BY sc.added_at, c.id"
)


class PostgresCharacterRepository:
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
        values = (guild_id, owner_id, name, key, description, personality, speech_style)
        values += (backstory, first_message, _tags_json(tags), card_json, self._db.now())

        async def work(conn: asyncpg.Connection) -> Character:
            if max_per_owner is not None:
                count = await one_value(
                    conn,
                    "SELECT count(*) FROM characters WHERE guild_id = $1 AND owner_id = $2",
                    guild_id,
                    owner_id,
                )
                if count >= max_per_owner:
                    raise LimitReached(
                        f"The owner already has {count} characters here (at most {max_per_owner})."
                    )
            row = await one_row(
                conn,
                """
                INSERT INTO characters (guild_id, owner_id, name, name_key, description,
                    personality, speech_style, backstory, first_message, tags, card_json,
                    created_at, updated_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)
                RETURNING *
                """,
                *values,
            )
            return _character(row)

        try:
            return await self._db.run(work)
        except LimitReached:
            raise
        except Conflict as exc:
            raise _duplicate(name) from exc

    async def get(self, character_id: int) -> Character | None:
        row = await self._db.fetchrow("SELECT * FROM characters WHERE id = $1", character_id)
        return None if row is None else _character(row)

    async def get_by_name(
        self, guild_id: int, name: str, owner_id: int | None = None
    ) -> Character | None:
        row = await self._db.fetchrow(
            "SELECT * FROM characters WHERE guild_id = $1 AND name_key = $2 "
            "AND ($3::bigint IS NULL OR owner_id = $3) ORDER BY id LIMIT 1",
            guild_id,
            name_key(name),
            owner_id,
        )
        return None if row is None else _character(row)

    async def list_for_guild(
        self, guild_id: int, *, limit: int = 25, offset: int = 0
    ) -> list[Character]:
        rows = await self._db.fetch(
            "SELECT * FROM characters WHERE guild_id = $1 ORDER BY name_key, id LIMIT $2 OFFSET $3",
            guild_id,
            limit,
            offset,
        )
        return [_character(row) for row in rows]

    async def list_for_owner(self, guild_id: int, owner_id: int) -> list[Character]:
        rows = await self._db.fetch(
            "SELECT * FROM characters WHERE guild_id = $1 AND owner_id = $2 ORDER BY name_key",
            guild_id,
            owner_id,
        )
        return [_character(row) for row in rows]

    async def search_names(
        self, guild_id: int, prefix: str, limit: int = 25, *, owner_id: int | None = None
    ) -> list[str]:
        start = name_key(prefix)
        rows = await self._db.fetch(
            "SELECT DISTINCT name, name_key FROM characters WHERE guild_id = $1 "
            "AND name_key >= $2 AND name_key < $3 AND ($4::bigint IS NULL OR owner_id = $4) "
            "ORDER BY name_key, name LIMIT $5",
            guild_id,
            start,
            start + _PREFIX_END,
            owner_id,
            limit,
        )
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
        try:
            rows = await self._db.update_columns("characters", character_id, columns)
        except Conflict as exc:
            raise _duplicate(str(changes.get("name", ""))) from exc
        if not rows:
            raise NotFound(f"Character {character_id} does not exist.")
        return _character(rows[0])

    async def delete(self, character_id: int) -> bool:
        return await self._db.write_count("DELETE FROM characters WHERE id = $1", character_id) > 0

    async def link(self, story_id: int, character_id: int, added_by: int) -> StoryCharacter:
        now = self._db.now()

        async def work(conn: asyncpg.Connection) -> StoryCharacter:
            await conn.execute(
                "INSERT INTO story_characters (story_id, character_id, added_by, added_at) "
                "VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                story_id,
                character_id,
                added_by,
                now,
            )
            row = await one_row(
                conn,
                "SELECT * FROM story_characters WHERE story_id = $1 AND character_id = $2",
                story_id,
                character_id,
            )
            return StoryCharacter(
                story_id=row["story_id"],
                character_id=row["character_id"],
                added_by=row["added_by"],
                added_at=row["added_at"],
            )

        return await self._db.run(work)

    async def unlink(self, story_id: int, character_id: int) -> bool:
        deleted = await self._db.write_count(
            "DELETE FROM story_characters WHERE story_id = $1 AND character_id = $2",
            story_id,
            character_id,
        )
        return deleted > 0

    async def list_for_story(self, story_id: int) -> list[Character]:
        return [_character(row) for row in await self._db.fetch(_FOR_STORY, story_id)]


async def read_for_story(conn: asyncpg.Connection, story_id: int) -> list[Character]:
    return [_character(row) for row in await conn.fetch(_FOR_STORY, story_id)]
