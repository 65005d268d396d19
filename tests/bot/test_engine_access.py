"""Who can read and act on what: a story found by id is shown, recapped, exported and listed only
to those who can see where it is played, and a button's turn id acts only in its own story's
guild and channel."""

from __future__ import annotations

import pytest
from engine_testing import ANN, BEN, CHANNEL, GUILD, start_story

from bot.errors import UnknownStory, UnknownTurn
from bot.story import StoryEngine
from bot.story.access import sees_everything
from storage.models import StorySettings

PRIVATE = 600
"""A channel only some members can read."""
PUBLIC = CHANNEL


def outside_private(channel_id: int, thread_id: int | None) -> bool:
    """A member who cannot read the private channel (nor its threads)."""
    return channel_id != PRIVATE


async def test_a_story_in_a_channel_one_cannot_see_is_unknown_by_id(engine: StoryEngine) -> None:
    hidden = await engine.start(
        GUILD, PRIVATE, ANN, "Ann", StorySettings(title="Secret Garden", genre="mystery")
    )
    await engine.write(PRIVATE, ANN, "Ann", "Only the club reads this.")
    story = hidden.story.id
    for read in (
        engine.show(story_id=story, guild_id=GUILD, can_view=outside_private),
        engine.recap(story_id=story, guild_id=GUILD, can_view=outside_private),
        engine.export(story_id=story, guild_id=GUILD, can_view=outside_private),
    ):
        with pytest.raises(UnknownStory, match=f"There is no story with id {story} here"):
            await read
    exported = await engine.export(story_id=story, guild_id=GUILD, can_view=lambda c, t: True)
    assert "Only the club reads this." in exported.markdown
    here = await engine.show(channel_id=PRIVATE, can_view=outside_private)
    assert here.story.id == story


async def test_a_story_in_a_thread_is_judged_by_its_channel_and_thread(
    engine: StoryEngine,
) -> None:
    started = await engine.start(
        GUILD, PRIVATE, ANN, "Ann", StorySettings(title="Threaded", genre="mystery"), thread_id=700
    )
    asked: list[tuple[int, int | None]] = []

    def can_view(channel_id: int, thread_id: int | None) -> bool:
        asked.append((channel_id, thread_id))
        return False

    with pytest.raises(UnknownStory):
        await engine.recap(story_id=started.story.id, guild_id=GUILD, can_view=can_view)
    assert asked == [(PRIVATE, 700)]


async def test_lists_leave_out_stories_one_cannot_see(engine: StoryEngine) -> None:
    await start_story(engine, title="Open Road")
    await engine.start(
        GUILD, PRIVATE, BEN, "Ben", StorySettings(title="Secret Garden", genre="mystery")
    )
    seen = await engine.list_stories(GUILD, can_view=outside_private)
    assert [s.title for s in seen.stories] == ["Open Road"]
    everything = await engine.list_stories(GUILD, can_view=sees_everything)
    assert {s.title for s in everything.stories} == {"Open Road", "Secret Garden"}


async def test_turn_buttons_act_only_in_their_own_guild_and_place(engine: StoryEngine) -> None:
    await start_story(engine)
    other = await engine.start(
        GUILD, PRIVATE, BEN, "Ben", StorySettings(title="Elsewhere", genre="mystery")
    )
    asked = await engine.ai_turn(CHANNEL, ANN)
    turn = asked.turn.id
    refusals = [
        engine.keep(turn, ANN, guild_id=GUILD + 1, place_id=CHANNEL),
        engine.keep(turn, ANN, guild_id=GUILD, place_id=PRIVATE),
        engine.reroll(turn, ANN, guild_id=GUILD + 1, place_id=CHANNEL),
        engine.reroll(turn, ANN, guild_id=GUILD, place_id=PRIVATE),
        engine.swipe(turn, ANN, 1, guild_id=GUILD + 1, place_id=CHANNEL),
        engine.swipe(turn, ANN, 1, guild_id=GUILD, place_id=PRIVATE),
    ]
    for attempt in refusals:
        with pytest.raises(UnknownTurn, match=f"no turn with id {turn} in this story"):
            await attempt
    assert (await engine.pending(CHANNEL)).alt_count == 1
    assert (await engine.pending(PRIVATE)) is None and other.story.id != asked.story.id
    kept = await engine.keep(turn, ANN, guild_id=GUILD, place_id=CHANNEL)
    assert not kept.turn.pending


async def test_a_thread_story_takes_its_buttons_in_the_thread(engine: StoryEngine) -> None:
    await engine.start(
        GUILD, CHANNEL, ANN, "Ann", StorySettings(title="Threaded", genre="mystery"), thread_id=700
    )
    asked = await engine.ai_turn(700, ANN)
    with pytest.raises(UnknownTurn):
        await engine.swipe(asked.turn.id, ANN, 0, guild_id=GUILD, place_id=CHANNEL)
    shown = await engine.swipe(asked.turn.id, ANN, 0, guild_id=GUILD, place_id=700)
    assert shown.turn.id == asked.turn.id
