"""Story memory and lorebook entries in PostgreSQL (books, names: see storage/sqlite/lore.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg

from storage.errors import Conflict, LimitReached, NotFound
from storage.models import LoreDraft, LoreEntry
from storage.postgres.database import Database, one_row, one_value
from storage.sqlite.codec import name_key
from storage.sqlite.lore import _FIELDS, _checked_key, _duplicate, _entry, _keys_json

_BOOK = "guild_id = $1 AND story_id IS NOT DISTINCT FROM $2::bigint"


class PostgresLoreRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def get_memory(self, story_id: int) -> str:
        text = await self._db.fetchval(
            "SELECT text FROM story_memory WHERE story_id = $1", story_id
        )
        return text or ""

    async def set_memory(self, story_id: int, text: str) -> None:
        if not text:
            await self._db.write_count("DELETE FROM story_memory WHERE story_id = $1", story_id)
            return
        await self._db.write_count(
            "INSERT INTO story_memory (story_id, text, updated_at) VALUES ($1, $2, $3) "
            "ON CONFLICT (story_id) DO UPDATE SET text = excluded.text, "
            "updated_at = excluded.updated_at",
            story_id,
            text,
            self._db.now(),
        )

    async def create(
        self, guild_id: int, story_id: int | None, draft: LoreDraft, *, max_entries: int
    ) -> LoreEntry:
        now = self._db.now()

        async def work(conn: asyncpg.Connection) -> LoreEntry:
            await _require_room(conn, guild_id, story_id, 1, max_entries)
            return _entry(await _insert(conn, guild_id, story_id, draft, now))

        try:
            return await self._db.run(work)
        except LimitReached:
            raise
        except Conflict as exc:
            raise _duplicate(draft.name) from exc

    async def put_many(
        self, guild_id: int, story_id: int | None, drafts: Sequence[LoreDraft], *, max_entries: int
    ) -> tuple[int, int]:
        now = self._db.now()

        async def work(conn: asyncpg.Connection) -> tuple[int, int]:
            rows = await conn.fetch(
                f"SELECT id, name_key FROM lore_entries WHERE {_BOOK}", guild_id, story_id
            )
            existing = {row["name_key"]: row["id"] for row in rows}
            added = [d for d in drafts if _checked_key(d.name) not in existing]
            await _require_room(conn, guild_id, story_id, len(added), max_entries)
            for draft in drafts:
                entry_id = existing.get(_checked_key(draft.name))
                if entry_id is None:
                    await _insert(conn, guild_id, story_id, draft, now)
                    continue
                await conn.execute(
                    "UPDATE lore_entries SET name = $1, keys = $2, text = $3, constant = $4, "
                    "priority = $5, updated_at = $6 WHERE id = $7",
                    draft.name,
                    *_values(draft),
                    now,
                    entry_id,
                )
            return len(added), len(drafts) - len(added)

        return await self._db.run(work)

    async def get(self, entry_id: int) -> LoreEntry | None:
        row = await self._db.fetchrow("SELECT * FROM lore_entries WHERE id = $1", entry_id)
        return None if row is None else _entry(row)

    async def get_by_name(self, guild_id: int, story_id: int | None, name: str) -> LoreEntry | None:
        row = await self._db.fetchrow(
            f"SELECT * FROM lore_entries WHERE {_BOOK} AND name_key = $3",
            guild_id,
            story_id,
            name_key(name),
        )
        return None if row is None else _entry(row)

    async def list_for(self, guild_id: int, story_id: int | None) -> list[LoreEntry]:
        rows = await self._db.fetch(
            "SELECT * FROM lore_entries WHERE guild_id = $1 "
            "AND (story_id IS NULL OR story_id IS NOT DISTINCT FROM $2::bigint) "
            "ORDER BY story_id IS NOT NULL, name_key, id",
            guild_id,
            story_id,
        )
        return [_entry(row) for row in rows]

    async def update(self, entry_id: int, **changes: Any) -> LoreEntry:
        unknown = sorted(set(changes) - _FIELDS)
        if unknown:
            raise ValueError(f"not a lore entry field: {', '.join(unknown)}")
        columns = dict(changes)
        if "name" in columns:
            columns["name_key"] = _checked_key(columns["name"])
        if "keys" in columns:
            columns["keys"] = _keys_json(columns["keys"])
        if "constant" in columns:
            columns["constant"] = bool(columns["constant"])
        try:
            rows = await self._db.update_columns("lore_entries", entry_id, columns)
        except Conflict as exc:
            raise _duplicate(str(changes.get("name", ""))) from exc
        if not rows:
            raise NotFound(f"Lore entry {entry_id} does not exist.")
        return _entry(rows[0])

    async def delete(self, entry_id: int) -> bool:
        return await self._db.write_count("DELETE FROM lore_entries WHERE id = $1", entry_id) > 0


async def _insert(
    conn: asyncpg.Connection, guild_id: int, story_id: int | None, draft: LoreDraft, now: float
) -> asyncpg.Record:
    return await one_row(
        conn,
        "INSERT INTO lore_entries (guild_id, story_id, name, name_key, keys, text, constant, "
        "priority, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) "
        "RETURNING *",
        guild_id,
        story_id,
        draft.name,
        _checked_key(draft.name),
        *_values(draft),
        now,
    )


def _values(draft: LoreDraft) -> tuple[str, str, bool, int]:
    return _keys_json(draft.keys), draft.text, bool(draft.constant), draft.priority


async def _require_room(
    conn: asyncpg.Connection, guild_id: int, story_id: int | None, adding: int, most: int
) -> None:
    count = await one_value(
        conn, f"SELECT count(*) FROM lore_entries WHERE {_BOOK}", guild_id, story_id
    )
    if count + adding > most:
        raise LimitReached(f"The lorebook holds {count} entries (at most {most}).")
