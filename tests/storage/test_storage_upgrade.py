"""A database made at the first schema, with rows in every table, upgraded through every
migration: every row survives and reads back through today's repositories."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from storage.sqlite import open_storage
from storage.sqlite.backup import pre_migration_path
from storage.sqlite.codec import pack_vector
from storage.sqlite.database import Database
from storage.sqlite.migrate import bundled_migrations, migrate

# SQLite itself (its files, locks and query plans): PostgreSQL has none of these.
pytestmark = pytest.mark.sqlite_only

LATEST = len(bundled_migrations())
ANN, BEN, GUILD = 1001, 1002, 77
CARD = json.dumps({"spec": "chara_card_v2", "data": {"name": "Mira", "tags": ["sea"]}})

FIRST_SCHEMA_ROWS = [
    "INSERT INTO guild_settings VALUES (77, 'family', '{\"*\":[\"grue\"]}', '{}', 1, 2.5, 10)",
    "INSERT INTO stories (id, guild_id, channel_id, thread_id, owner_id, title, genre, mood, "
    "premise, mode, turn_timeout_s, timeout_action, reroll_policy, style_matching, model_id, "
    "status, current_seat, turn_deadline, created_at, updated_at, ended_at) VALUES "
    "(1, 77, 500, 600, 1001, 'The Lighthouse', 'mystery', 'eerie', 'A lamp goes out.', "
    "'round_robin', 300, 'ai', 'vote', 1, 'lstm-v1', 'active', 1, 1000.0, 5, 6, NULL), "
    "(2, 77, 501, NULL, 1002, 'Done', 'children', NULL, '', 'free', NULL, 'skip', 'owner', 0, "
    "NULL, 'ended', 0, NULL, 7, 8, 9)",
    "INSERT INTO characters (id, guild_id, owner_id, name, name_key, description, personality, "
    "speech_style, backstory, first_message, tags, card_json, created_at, updated_at) VALUES "
    "(1, 77, 1001, 'Mira', 'mira', 'a captain', 'bold', 'nautical', 'born at sea', "
    "'Ahoy.', '[\"sea\"]', ?, 3, 4)",
    "INSERT INTO participants VALUES (1, 1001, 'Ann', 0, 5, NULL, 1), "
    "(1, 1002, 'Ben', 1, 6, NULL, NULL), (2, 1002, 'Ben', 0, 7, 8, NULL)",
    "INSERT INTO story_characters VALUES (1, 1, 1001, 5)",
    "INSERT INTO turns (id, story_id, slot, alt_index, author_kind, author_id, author_name, "
    "accepted_by, character_id, character_name, kind, text, model_id, params_json, score, "
    "moderation_json, state, hidden, created_at) VALUES "
    "(1, 1, 0, 0, 'user', 1001, 'Ann', 1001, 1, 'Mira', 'dialogue', '\"Light the lamp.\"', "
    "NULL, '{}', NULL, NULL, 'accepted', 0, 10), "
    "(2, 1, 1, 0, 'model', 1002, 'Ben', 1001, NULL, NULL, 'narration', 'The lamp flickers.', "
    "'lstm-v1', '{\"temperature\": 0.8}', -1.5, '{\"verdict\": \"allow\"}', 'accepted', 0, 11), "
    "(3, 1, 2, 0, 'model', 1002, 'Ben', NULL, NULL, NULL, 'twist', 'A ship!', 'lstm-v1', '{}', "
    "NULL, NULL, 'pending', 0, 12), "
    "(4, 1, 2, 1, 'model', 1002, 'Ben', NULL, NULL, NULL, 'twist', 'A storm!', 'lstm-v1', '{}', "
    "NULL, NULL, 'pending', 0, 13), "
    "(5, 2, 0, 0, 'user', 1002, 'Ben', 1002, NULL, NULL, 'narration', 'The end.', NULL, '{}', "
    "NULL, NULL, 'accepted', 1, 14)",
    'INSERT INTO style_profiles VALUES (1001, ?, 2, \'{"turns": 2}\', \'{"length": "short"}\', 15)',
    "INSERT INTO feedback (turn_id, user_id, kind, created_at) VALUES (2, 1001, 'keep', 16), "
    "(2, 1002, 'up', 17), (3, 1001, 'reroll_vote', 18)",
    "INSERT INTO moderation_events (id, guild_id, story_id, turn_id, user_id, kind, source, "
    "excerpt, verdict_json, status, resolution, resolved_by, resolved_at, note, created_at) "
    "VALUES (1, 77, 1, 5, 1002, 'report', 'report', 'The end.', '{}', 'resolved', 'hidden', "
    "1001, 20, 'spoiler', 19), (2, 77, 1, NULL, 1001, 'block', 'user_input', '', "
    "'{\"categories\": [\"slurs\"]}', 'open', NULL, NULL, NULL, NULL, 21)",
]


async def make_first_schema_database(path: Path) -> None:
    database = await Database.open(path)
    try:
        await migrate(database, bundled_migrations()[:1])
        async with database.transaction() as conn:
            for sql in FIRST_SCHEMA_ROWS:
                params: tuple = ()
                if "card_json" in sql:
                    params = (CARD,)
                elif "style_profiles" in sql:
                    params = (pack_vector([0.25, -0.5]),)
                await conn.execute(sql, params)
    finally:
        await database.close()


def tables_with_rows(path: Path) -> set[str]:
    conn = sqlite3.connect(path)
    try:
        names = [
            name
            for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name <> 'sqlite_sequence'"
            )
        ]
        return {
            name for name in names if conn.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
        }
    finally:
        conn.close()


async def test_a_populated_first_schema_upgrades_through_every_migration(tmp_path: Path) -> None:
    db = tmp_path / "talewright.db"
    await make_first_schema_database(db)
    first_tables = tables_with_rows(db)
    assert len(first_tables) == 9, "every table of the first schema holds rows"

    async with await open_storage(db) as storage:
        assert pre_migration_path(db, LATEST).is_file()
        assert tables_with_rows(db) >= first_tables

        settings = await storage.guilds.get(GUILD)
        assert settings.moderation_level == "family" and settings.blocked_terms == {"*": ["grue"]}
        assert settings.plain_message_mode and settings.cooldown_seconds == 2.5

        story = await storage.stories.get(1)
        assert story is not None and story.title == "The Lighthouse"
        assert (story.mode, story.current_seat, story.turn_deadline) == ("round_robin", 1, 1000.0)
        assert (await storage.stories.get_active_for_channel(600)).id == 1
        ended = await storage.stories.get(2)
        assert ended is not None and ended.status == "ended" and ended.ended_at == 9

        members = await storage.stories.list_participants(1)
        assert [(m.user_id, m.seat, m.character_id) for m in members] == [
            (ANN, 0, 1),
            (BEN, 1, None),
        ]
        mira = await storage.characters.get(1)
        assert mira is not None and mira.card_json == CARD and mira.tags == ("sea",)
        assert [c.name for c in await storage.characters.list_for_story(1)] == ["Mira"]

        accepted = await storage.turns.page(1)
        assert [t.text for t in accepted] == ['"Light the lamp."', "The lamp flickers."]
        assert accepted[1].params == {"temperature": 0.8} and accepted[1].score == -1.5
        pending = await storage.turns.pending_for_story(1)
        assert [(t.alt_index, t.text, t.shown_seq) for t in pending] == [
            (0, "A ship!", 0),
            (1, "A storm!", 0),
        ]
        assert (await storage.turns.get(5)).hidden

        profile = await storage.styles.get(ANN)
        assert profile is not None and profile.vector == (0.25, -0.5)
        assert profile.preferences == {"length": "short"}
        assert await storage.feedback.voters(2, "up") == [BEN]
        assert await storage.feedback.count(3, "reroll_vote") == 1
        events = await storage.moderation.list_recent(GUILD)
        assert [(e.id, e.status, e.resolution) for e in events] == [
            (2, "open", None),
            (1, "resolved", "hidden"),
        ]

        # The upgraded database keeps working: a swipe, a keep, a new turn, a user's export.
        await storage.turns.mark_shown(3)
        kept = await storage.keep_turn(3, ANN)
        assert kept.state == "accepted"
        assert (await storage.turns.next_slot(1)) == 3
        data = await storage.export_user(ANN)
        assert [t.id for t in data.turns] == [1] and [c.name for c in data.characters] == ["Mira"]
