"""Bad input gets a sentence saying what to fix, and nothing of it is stored; odd but harmless
input is stored exactly as written."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from engine_testing import ANN, BEN, CHANNEL, GUILD, start_story

from bot.errors import (
    DuplicateCharacter,
    InvalidInput,
    NoActiveStory,
    UnknownCharacter,
    UnknownId,
    UnknownStory,
    UnknownTurn,
    UserFacingError,
)
from bot.story import StoryEngine
from bot.story.text import clean_text, first_sentence
from storage.models import StorySettings


async def stored_texts(engine: StoryEngine) -> list[str]:
    return [t.text for t in (await engine.show(channel_id=CHANNEL)).turns]


@pytest.mark.parametrize("text", ["", "   ", "\n\t \n"])
async def test_empty_turns_are_refused(engine: StoryEngine, text: str) -> None:
    await start_story(engine)
    with pytest.raises(InvalidInput, match="empty"):
        await engine.write(CHANNEL, ANN, "Ann", text)
    assert await stored_texts(engine) == []


async def test_too_long_turns_are_refused_with_the_limit(engine: StoryEngine) -> None:
    await start_story(engine)
    with pytest.raises(InvalidInput, match="1,801 characters, and the limit is 1,800"):
        await engine.write(CHANNEL, ANN, "Ann", "x" * 1801)
    await engine.write(CHANNEL, ANN, "Ann", "y" * 1800)
    assert [len(t) for t in await stored_texts(engine)] == [1800]


@pytest.mark.parametrize("char", ["\x07", "\x1b", "\x00", "\x7f", "\x85"])
async def test_control_characters_are_refused(engine: StoryEngine, char: str) -> None:
    await start_story(engine)
    with pytest.raises(InvalidInput, match=f"U\\+{ord(char):04X}"):
        await engine.write(CHANNEL, ANN, "Ann", f"A bell{char} rang.")
    assert await stored_texts(engine) == []


async def test_zero_width_and_direction_controls_are_removed_and_reported(
    engine: StoryEngine,
) -> None:
    await start_story(engine)
    result = await engine.write(CHANNEL, ANN, "Ann", "The\u200b door\u202e opened\u2066.\ufeff")
    assert result.turn.text == "The door opened."
    assert result.notices == (
        "Removed 4 invisible characters (zero-width or text-direction controls).",
    )


def test_an_emoji_joiner_is_kept() -> None:
    astronaut = "\U0001f469\u200d\U0001f680"
    cleaned = clean_text(f"She waved {astronaut} and left\u200d.", 100)
    assert cleaned.text == f"She waved {astronaut} and left." and cleaned.removed == 1


def test_line_breaks_and_tabs_are_text() -> None:
    assert clean_text("  One.\r\nTwo.\tThree.  ", 100).text == "One.\nTwo.\tThree."
    with pytest.raises(InvalidInput, match="one line"):
        clean_text("Two\nlines", 100, "The title", single_line=True)


def test_first_sentence_is_cut_to_length() -> None:
    assert first_sentence("word " * 100, limit=20) == "word word word word…"


async def test_mentions_are_stored_verbatim(engine: StoryEngine) -> None:
    await start_story(engine)
    text = "@everyone look! <@123> and @here too."
    result = await engine.write(CHANNEL, ANN, "Ann", text)
    assert result.turn.text == text and await stored_texts(engine) == [text]


async def test_sql_metacharacters_are_just_text(engine: StoryEngine, db_path: Path) -> None:
    title = "Robert'); DROP TABLE turns;--"
    await engine.start(GUILD, CHANNEL, ANN, "Ann", StorySettings(title=title, genre="mystery"))
    text = "'; DELETE FROM stories WHERE 1=1; -- \" % _ \\"
    await engine.write(CHANNEL, ANN, "Ann' OR '1'='1", text)
    await engine.character_create(GUILD, ANN, "Bobby'; --", description="x' OR 1=1")
    assert await stored_texts(engine) == [text]
    assert (await engine.status(CHANNEL)).story.title == title
    assert (await engine.character_show(GUILD, "bobby'; --")).character.description == "x' OR 1=1"
    with sqlite3.connect(db_path) as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    assert {"turns", "stories", "characters"} <= tables


async def test_unknown_ids_and_names(engine: StoryEngine) -> None:
    with pytest.raises(NoActiveStory, match="/story start"):
        await engine.write(CHANNEL, ANN, "Ann", "Hello?")
    with pytest.raises(UnknownStory, match="no story with id 404"):
        await engine.show(story_id=404)
    started = await start_story(engine)
    with pytest.raises(UnknownStory):
        await engine.export(story_id=started.story.id, guild_id=GUILD + 1)
    for call in (engine.keep(999, ANN), engine.reroll(999, ANN), engine.swipe(999, ANN, 1)):
        with pytest.raises(UnknownTurn, match="no turn with id 999"):
            await call
    with pytest.raises(UnknownTurn):
        await engine.report_turn(999, BEN)
    with pytest.raises(UnknownCharacter, match='no character called "Nobody"'):
        await engine.ai_turn(CHANNEL, ANN, "dialogue", "Nobody")
    with pytest.raises(UnknownCharacter):
        await engine.write(CHANNEL, ANN, "Ann", "Hi.", character_name="Nobody")
    with pytest.raises(UnknownId):
        await engine.mod_resolve(999, ANN, "dismiss", is_moderator=True)
    assert await stored_texts(engine) == []


async def test_duplicate_character_names(engine: StoryEngine) -> None:
    await engine.character_create(GUILD, ANN, "Captain Mira")
    with pytest.raises(DuplicateCharacter, match="already have a character"):
        await engine.character_create(GUILD, ANN, "captain MIRA ")
    other = await engine.character_create(GUILD, BEN, "Captain Mira")
    assert other.character.owner_id == BEN
    await engine.character_create(GUILD, ANN, "Pip")
    with pytest.raises(DuplicateCharacter):
        await engine.character_edit(GUILD, ANN, "Pip", name="Captain Mira")
    listed = await engine.character_list(GUILD, ANN)
    assert [c.name for c in listed.characters] == ["Captain Mira", "Pip"]


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"genre": "romance"}, "Unknown genre 'romance'"),
        ({"mood": "angry"}, "Unknown mood 'angry'"),
        ({"mode": "chaos"}, "Unknown mode 'chaos'"),
        ({"turn_timeout_s": 5}, "from 10 to"),
        ({"timeout_action": "explode"}, "Unknown timeout action"),
        ({"reroll_policy": "anyone"}, "Unknown reroll policy"),
        ({"model_voice": "poetry"}, "Unknown model voice"),
        ({"title": "   "}, "The title is empty"),
        ({"title": "Two\nlines"}, "one line"),
    ],
)
async def test_bad_story_settings(engine: StoryEngine, settings: dict, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        await start_story(engine, **settings)
    assert (await engine.list_stories(GUILD)).stories == ()


async def test_every_error_reads_as_a_sentence(engine: StoryEngine) -> None:
    errors: list[UserFacingError] = []
    for call in (
        engine.write(CHANNEL, ANN, "Ann", "x"),
        engine.keep(1, ANN),
        start_story(engine, genre="romance"),
    ):
        try:
            await call
        except UserFacingError as exc:
            errors.append(exc)
    assert len(errors) == 3
    for error in errors:
        assert str(error)[0].isupper() and str(error).endswith(".")
