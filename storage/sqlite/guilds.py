"""Guild settings in SQLite."""

from __future__ import annotations

from dataclasses import replace

from storage.models import GuildSettings, LinkPolicy, ModerationLevel, TermLists, require_choice
from storage.sqlite.codec import Row, from_json, to_json
from storage.sqlite.database import Database
from storage.sqlite.query import fetch_one


class SqliteGuildRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def get(self, guild_id: int) -> GuildSettings:
        async with self._db.read() as conn:
            row = await fetch_one(
                conn, "SELECT * FROM guild_settings WHERE guild_id = ?", (guild_id,)
            )
        return GuildSettings(guild_id=guild_id) if row is None else _settings(row)

    async def upsert(self, settings: GuildSettings) -> GuildSettings:
        require_choice("moderation_level", settings.moderation_level, ModerationLevel)
        require_choice("link_policy", settings.link_policy, LinkPolicy)
        if settings.cooldown_seconds < 0:
            raise ValueError(f"cooldown_seconds must be >= 0, not {settings.cooldown_seconds}")
        stored = replace(
            settings,
            blocked_terms=_term_lists(settings.blocked_terms),
            exempt_terms=_term_lists(settings.exempt_terms),
            updated_at=self._db.now(),
        )
        async with self._db.transaction() as conn:
            await conn.execute(
                """
                INSERT INTO guild_settings (guild_id, moderation_level, blocked_terms,
                    exempt_terms, plain_message_mode, cooldown_seconds, updated_at, link_policy)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (guild_id) DO UPDATE SET
                    moderation_level = excluded.moderation_level,
                    blocked_terms = excluded.blocked_terms,
                    exempt_terms = excluded.exempt_terms,
                    plain_message_mode = excluded.plain_message_mode,
                    cooldown_seconds = excluded.cooldown_seconds,
                    updated_at = excluded.updated_at,
                    link_policy = excluded.link_policy
                """,
                (
                    stored.guild_id,
                    stored.moderation_level,
                    to_json(stored.blocked_terms),
                    to_json(stored.exempt_terms),
                    int(stored.plain_message_mode),
                    float(stored.cooldown_seconds),
                    stored.updated_at,
                    stored.link_policy,
                ),
            )
        return stored


def _term_lists(lists: TermLists) -> TermLists:
    """A checked copy, so what `upsert` returns is exactly what a later `get` reads."""
    copy: TermLists = {}
    for category, terms in lists.items():
        if isinstance(terms, str) or not all(isinstance(term, str) for term in terms):
            raise ValueError(f"terms for category {category!r} must be a list of strings")
        copy[str(category)] = list(terms)
    return copy


def _settings(row: Row) -> GuildSettings:
    return GuildSettings(
        guild_id=row["guild_id"],
        moderation_level=row["moderation_level"],
        blocked_terms=from_json(row["blocked_terms"]),
        exempt_terms=from_json(row["exempt_terms"]),
        plain_message_mode=bool(row["plain_message_mode"]),
        cooldown_seconds=row["cooldown_seconds"],
        updated_at=row["updated_at"],
        link_policy=row["link_policy"],
    )
