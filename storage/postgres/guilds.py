"""Guild settings in PostgreSQL."""

from __future__ import annotations

from dataclasses import replace

from storage.models import GuildSettings, LinkPolicy, ModerationLevel, require_choice
from storage.postgres.database import Database
from storage.sqlite.codec import to_json
from storage.sqlite.guilds import _settings, _term_lists

_UPSERT = """
    INSERT INTO guild_settings (guild_id, moderation_level, blocked_terms, exempt_terms,
        plain_message_mode, cooldown_seconds, updated_at, link_policy)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
    ON CONFLICT (guild_id) DO UPDATE SET
        moderation_level = excluded.moderation_level,
        blocked_terms = excluded.blocked_terms,
        exempt_terms = excluded.exempt_terms,
        plain_message_mode = excluded.plain_message_mode,
        cooldown_seconds = excluded.cooldown_seconds,
        updated_at = excluded.updated_at,
        link_policy = excluded.link_policy
"""


class PostgresGuildRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def get(self, guild_id: int) -> GuildSettings:
        row = await self._db.fetchrow("SELECT * FROM guild_settings WHERE guild_id = $1", guild_id)
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
        await self._db.write_count(
            _UPSERT,
            stored.guild_id,
            stored.moderation_level,
            to_json(stored.blocked_terms),
            to_json(stored.exempt_terms),
            bool(stored.plain_message_mode),
            float(stored.cooldown_seconds),
            stored.updated_at,
            stored.link_policy,
        )
        return stored
