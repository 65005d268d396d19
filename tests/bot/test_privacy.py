"""The engine's side of a user's data: opt-in style memory, the export and the full delete."""

from __future__ import annotations

import json

import pytest
from engine_testing import ANN, BEN, CHANNEL, GUILD, FakeClock, FakeGenerator, start_story

from bot.console.commands import privacy_delete
from bot.console.parse import Command
from bot.errors import PermissionDenied
from bot.render_privacy import delete_text
from bot.story import StoryEngine
from bot.story.style import StoredStyle
from storage.models import FORMER_USER_NAME


@pytest.fixture
def engine(storage, moderator, clock: FakeClock) -> StoryEngine:
    return StoryEngine(
        storage, FakeGenerator(), moderator, style=StoredStyle(storage.styles), clock=clock
    )


async def test_style_memory_learns_only_from_writers_who_said_yes(engine, storage) -> None:
    await start_story(engine)
    await engine.write(CHANNEL, ANN, "Ann", "Nobody asked me.")
    assert await storage.styles.get(ANN) is None
    choice = await engine.privacy_style(ANN, GUILD, True, change=True)
    assert choice.on and choice.own_choice is True
    await engine.write(CHANNEL, ANN, "Ann", "Now I said yes.")
    assert (await storage.styles.get(ANN)).stats["turns"] == 1
    off = await engine.privacy_style(ANN, GUILD, False, change=True)
    assert not off.on and await storage.styles.get(ANN) is None


async def test_a_server_default_needs_a_moderator_and_yields_to_a_choice(engine) -> None:
    with pytest.raises(PermissionDenied):
        await engine.privacy_server_style(GUILD, BEN, True, is_moderator=False)
    choice = await engine.privacy_server_style(GUILD, BEN, True, is_moderator=True)
    assert choice.on and choice.own_choice is None and choice.guild_default
    assert not (await engine.privacy_style(ANN, GUILD, False, change=True)).on


async def test_export_then_delete(engine, storage) -> None:
    await start_story(engine)
    await engine.character_create(GUILD, ANN, "Mira", description="a captain")
    await engine.write(CHANNEL, ANN, "Ann", "The ship leaves.")
    await engine.write(CHANNEL, BEN, "Ben", "The gulls follow.")
    export = await engine.privacy_export(ANN)
    document = json.loads(export.json_text)
    assert [turn["text"] for turn in document["turns"]] == ["The ship leaves."]
    assert [c["name"] for c in document["characters"]] == ["Mira"]
    assert export.counts["turns"] == 1 and export.counts["characters"] == 1

    result = await engine.privacy_delete(ANN)
    assert "Kept" in delete_text(result) and result.changed["characters"] == 1
    after = json.loads((await engine.privacy_export(ANN)).json_text)
    assert after["turns"] == after["characters"] == after["stories_joined"] == []
    story = await storage.stories.get_active_for_channel(CHANNEL)
    turns = await storage.turns.page(story.id)
    assert [(t.author_name, t.text) for t in turns if t.author_kind == "user"] == [
        (FORMER_USER_NAME, "The ship leaves."),
        ("Ben", "The gulls follow."),
    ]


async def test_the_terminal_asks_before_deleting(engine, storage) -> None:
    class Session:
        def __init__(self) -> None:
            self.engine = engine
            self.user_id = ANN

    await engine.character_create(GUILD, ANN, "Mira")
    asked = await privacy_delete(Session(), Command(("privacy", "delete")))
    assert "/privacy delete confirm" in asked
    assert await storage.characters.list_for_owner(GUILD, ANN)
    done = await privacy_delete(Session(), Command(("privacy", "delete"), ("confirm",)))
    assert "Kept" in done and not await storage.characters.list_for_owner(GUILD, ANN)
