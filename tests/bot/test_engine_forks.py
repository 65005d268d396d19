"""Forking a story: a new story from this one up to a turn, with its settings, characters and
lore, linked both ways; the original goes on untouched; a story one cannot see is refused."""

from __future__ import annotations

import pytest
from engine_testing import ANN, BEN, CHANNEL, GUILD, start_story

from bot.errors import InvalidInput, UnknownStory
from bot.story import StoryEngine
from bot.story.links import link_notes
from storage.models import LoreDraft, StorySettings

FORK_THREAD = 900
PRIVATE = 600


async def test_a_fork_starts_from_the_story_so_far_and_both_know(engine: StoryEngine) -> None:
    started = await start_story(engine, mode="round_robin", title="Tide")
    original = started.story.id
    await engine.character_create(GUILD, ANN, "Marta")
    await engine.cast(CHANNEL, ANN, "Marta")
    await engine.storage.lore.set_memory(original, "The door hums when the tide turns.")
    await engine.storage.lore.create(
        GUILD, original, LoreDraft("Door", ("door",), "It hums."), max_entries=10
    )
    ids = [(await engine.write(CHANNEL, ANN, "Ann", f"Turn {n}.")).turn.id for n in range(3)]

    plan = await engine.plan_fork(channel_id=CHANNEL, guild_id=GUILD, at_turn=ids[1])
    forked = await engine.fork(plan, BEN, "Ben", channel_id=CHANNEL, thread_id=FORK_THREAD)
    fork = forked.story
    assert (fork.thread_id, fork.owner_id, fork.mode, fork.title) == (
        FORK_THREAD,
        BEN,
        "round_robin",
        "Tide",
    )
    assert [p.name for p in fork.participants] == ["Ben"]
    page = await engine.show(channel_id=FORK_THREAD)
    assert [t.text for t in page.turns] == ["Turn 0.", "Turn 1."]
    assert link_notes(page.links) == [f'Forked from story #{original} "Tide", after its turn 2.']
    assert [c.name for c in await engine.storage.characters.list_for_story(fork.id)] == ["Marta"]
    assert await engine.storage.lore.get_memory(fork.id) == "The door hums when the tide turns."
    assert [e.name for e in await engine.storage.lore.list_for(GUILD, fork.id)] == ["Door"]

    await engine.write(FORK_THREAD, BEN, "Ben", "Only in the fork.")
    back = await engine.show(channel_id=CHANNEL)
    assert [t.text for t in back.turns] == ["Turn 0.", "Turn 1.", "Turn 2."]
    assert link_notes(back.links) == [f"Forks: story #{fork.id}."]


async def test_a_fork_of_a_story_one_cannot_see_is_refused(engine: StoryEngine) -> None:
    hidden = await engine.start(
        GUILD, PRIVATE, ANN, "Ann", StorySettings(title="Secret Garden", genre="mystery")
    )
    await engine.write(PRIVATE, ANN, "Ann", "Only the club reads this.")
    with pytest.raises(UnknownStory, match=f"There is no story with id {hidden.story.id} here"):
        await engine.plan_fork(
            story_id=hidden.story.id, guild_id=GUILD, can_view=lambda c, t: c != PRIVATE
        )
    assert len((await engine.list_stories(GUILD)).stories) == 1


async def test_bad_fork_points_are_refused(engine: StoryEngine) -> None:
    await start_story(engine)
    with pytest.raises(InvalidInput, match="nothing to fork"):
        await engine.plan_fork(channel_id=CHANNEL)
    await engine.write(CHANNEL, ANN, "Ann", "One.")
    with pytest.raises(InvalidInput, match="not a kept turn of this story"):
        await engine.plan_fork(channel_id=CHANNEL, at_turn=999)
