"""SQL metacharacters and unusual Unicode come back exactly as they went in."""

from __future__ import annotations

import pytest
from storage_testing import Opener, user_turn

from storage.errors import StorageError
from storage.models import GuildSettings, StorySettings

NASTY = [
    "Robert'); DROP TABLE stories;--",
    "quote \" and ' and `tick` and [bracket]",
    "100% _wild_ \\escape\\ ; -- /* comment */",
    "NULL",
    "",
    "line one\nline two\r\n\ttabbed",
    "nul\x00byte",
    "ﬁ ligature, Ω vs Ω, e\u0301 vs é",
    "zero\u200bwidth\u200djoiner\ufeff",
    "עברית مرحبا right-to-left \u202e override",
    "👩‍👩‍👧‍👦 family, 🏳️‍🌈 flag, 𝔣𝔯𝔞𝔨𝔱𝔲𝔯",
    "x" * 5000,
]


@pytest.mark.parametrize("text", NASTY, ids=range(len(NASTY)))
async def test_text_round_trips_verbatim(open_again: Opener, backend: str, text: str) -> None:
    if backend == "postgres" and "\x00" in text:
        await nul_is_refused_and_nothing_saved(open_again, text)
        return
    async with await open_again() as storage:
        story = await storage.stories.create(
            guild_id=1,
            channel_id=2,
            owner_id=3,
            settings=StorySettings(title=text, genre="mystery", premise=text),
        )
        turn = await storage.turns.add(
            story.id, user_turn(text, character_name=text, params={text: [text]})
        )
        character = await storage.characters.create(
            1, 3, f"name {text}", description=text, tags=[text], card_json=text or None
        )
        event = await storage.moderation.add(1, "block", "user_input", excerpt=text)
        await storage.guilds.upsert(GuildSettings(guild_id=1, blocked_terms={text: [text]}))
        await storage.styles.set_preferences(3, {text: text})

    async with await open_again() as storage:
        stored_story = await storage.stories.get(story.id)
        assert stored_story is not None
        assert stored_story.title == text and stored_story.premise == text
        stored_turn = await storage.turns.get(turn.id)
        assert stored_turn is not None
        assert stored_turn.text == text and stored_turn.character_name == text
        assert stored_turn.params == {text: [text]}
        found = await storage.characters.get_by_name(1, f"name {text}", owner_id=3)
        assert found is not None and found.id == character.id
        assert found.name == f"name {text}" and found.description == text
        assert found.tags == (text,) and found.card_json == (text or None)
        stored_event = await storage.moderation.get(event.id)
        assert stored_event is not None and stored_event.excerpt == text
        assert (await storage.guilds.get(1)).blocked_terms == {text: [text]}
        profile = await storage.styles.get(3)
        assert profile is not None and profile.preferences == {text: text}
        assert await storage.characters.search_names(1, f"name {text}") == [f"name {text}"]


async def nul_is_refused_and_nothing_saved(open_again: Opener, text: str) -> None:
    """PostgreSQL text cannot hold NUL: the write is refused in words, and nothing is stored."""
    async with await open_again() as storage:
        with pytest.raises(StorageError, match="NUL character"):
            await storage.stories.create(
                guild_id=1,
                channel_id=2,
                owner_id=3,
                settings=StorySettings(title=text, genre="mystery"),
            )
        assert await storage.stories.list_for_guild(1) == []
