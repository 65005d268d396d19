"""Story memory and lorebook entries in SQLite.

A book is a guild's entries (`story_id` NULL) or one story's; names are unique per book,
compared as `name_key` (NFKC + casefold), so `/lore edit` and autocomplete find them either way.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

import aiosqlite

from storage.errors import Conflict, LimitReached, NotFound
from storage.models import LoreDraft, LoreEntry
from storage.sqlite.codec import Row, checked_name_key, from_json, name_key, string_list_json
from storage.sqlite.database import Database
from storage.sqlite.query import execute, fetch_all, fetch_one, fetch_value

_FIELDS = frozenset({"name", "keys", "text", "constant", "priority"})
_BOOK = "guild_id = ? AND story_id IS ?"


class SqliteLoreRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def get_memory(self, story_id: int) -> str:
        async with self._db.read() as conn:
            text = await fetch_value(
                conn, "SELECT text FROM story_memory WHERE story_id = ?", (story_id,)
            )
        return text or ""

    async def set_memory(self, story_id: int, text: str) -> None:
        async with self._db.transaction() as conn:
            if not text:
                await execute(conn, "DELETE FROM story_memory WHERE story_id = ?", (story_id,))
                return
            await execute(
                conn,
                "INSERT INTO story_memory (story_id, text, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT (story_id) DO UPDATE SET text = excluded.text, "
                "updated_at = excluded.updated_at",
                (story_id, text, self._db.now()),
            )

    async def create(
        self, guild_id: int, story_id: int | None, draft: LoreDraft, *, max_entries: int
    ) -> LoreEntry:
        try:
            async with self._db.transaction() as conn:
                await _require_room(conn, guild_id, story_id, 1, max_entries)
                row = await _insert(conn, guild_id, story_id, draft, self._db.now())
        except LimitReached:
            raise
        except Conflict as exc:
            raise _duplicate(draft.name) from exc
        return _entry(row)

    async def put_many(
        self, guild_id: int, story_id: int | None, drafts: Sequence[LoreDraft], *, max_entries: int
    ) -> tuple[int, int]:
        now = self._db.now()
        async with self._db.transaction() as conn:
            rows = await fetch_all(
                conn, f"SELECT id, name_key FROM lore_entries WHERE {_BOOK}", (guild_id, story_id)
            )
            existing = {row["name_key"]: row["id"] for row in rows}
            added = [d for d in drafts if _checked_key(d.name) not in existing]
            await _require_room(conn, guild_id, story_id, len(added), max_entries)
            for draft in drafts:
                entry_id = existing.get(_checked_key(draft.name))
                if entry_id is None:
                    await _insert(conn, guild_id, story_id, draft, now)
                    continue
                await execute(
                    conn,
                    "UPDATE lore_entries SET name = ?, keys = ?, text = ?, constant = ?, "
                    "priority = ?, updated_at = ? WHERE id = ?",
                    (draft.name, *_values(draft), now, entry_id),
                )
        return len(added), len(drafts) - len(added)

    async def get(self, entry_id: int) -> LoreEntry | None:
        async with self._db.read() as conn:
            row = await fetch_one(conn, "SELECT * FROM lore_entries WHERE id = ?", (entry_id,))
        return None if row is None else _entry(row)

    async def get_by_name(self, guild_id: int, story_id: int | None, name: str) -> LoreEntry | None:
        async with self._db.read() as conn:
            row = await fetch_one(
                conn,
                f"SELECT * FROM lore_entries WHERE {_BOOK} AND name_key = ?",
                (guild_id, story_id, name_key(name)),
            )
        return None if row is None else _entry(row)

    async def list_for(self, guild_id: int, story_id: int | None) -> list[LoreEntry]:
        async with self._db.read() as conn:
            rows = await fetch_all(
                conn,
                "SELECT * FROM lore_entries WHERE guild_id = ? "
                "AND (story_id IS NULL OR story_id IS ?) "
                "ORDER BY story_id IS NOT NULL, name_key, id",
                (guild_id, story_id),
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
            columns["constant"] = int(bool(columns["constant"]))
        assignments = "".join(f"{column} = ?, " for column in columns)
        try:
            async with self._db.transaction() as conn:
                row = await fetch_one(
                    conn,
                    f"UPDATE lore_entries SET {assignments}updated_at = ? WHERE id = ? RETURNING *",
                    (*columns.values(), self._db.now(), entry_id),
                )
        except Conflict as exc:
            raise _duplicate(str(changes.get("name", ""))) from exc
        if row is None:
            raise NotFound(f"Lore entry {entry_id} does not exist.")
        return _entry(row)

    async def delete(self, entry_id: int) -> bool:
        async with self._db.transaction() as conn:
            deleted = await execute(conn, "DELETE FROM lore_entries WHERE id = ?", (entry_id,))
        return deleted > 0


async def _insert(
    conn: aiosqlite.Connection, guild_id: int, story_id: int | None, draft: LoreDraft, now: float
) -> sqlite3.Row:
    row = await fetch_one(
        conn,
        "INSERT INTO lore_entries (guild_id, story_id, name, name_key, keys, text, constant, "
        "priority, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *",
        (guild_id, story_id, draft.name, _checked_key(draft.name), *_values(draft), now, now),
    )
    assert row is not None
    return row


def _values(draft: LoreDraft) -> tuple[str, str, int, int]:
    return _keys_json(draft.keys), draft.text, int(draft.constant), draft.priority


async def _require_room(
    conn: aiosqlite.Connection, guild_id: int, story_id: int | None, adding: int, most: int
) -> None:
    count = await fetch_value(
        conn, f"SELECT COUNT(*) FROM lore_entries WHERE {_BOOK}", (guild_id, story_id)
    )
    if count + adding > most:
        raise LimitReached(f"The lorebook holds {count} entries (at most {most}).")


def _checked_key(name: str) -> str:
    return checked_name_key(name, "a lore entry")


def _keys_json(keys: Sequence[str]) -> str:
    return string_list_json(keys, "keys")


def _duplicate(name: str) -> Conflict:
    return Conflict(
        f'This lorebook already has an entry called "{name.strip()}" (names ignore case); '
        "pick another name or edit that entry."
    )


def _entry(row: Row) -> LoreEntry:
    return LoreEntry(
        id=row["id"],
        guild_id=row["guild_id"],
        story_id=row["story_id"],
        name=row["name"],
        keys=tuple(from_json(row["keys"], [])),
        text=row["text"],
        constant=bool(row["constant"]),
        priority=row["priority"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )
