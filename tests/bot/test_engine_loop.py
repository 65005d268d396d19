"""The whole story loop: start, writes by two people, model turns of each kind, reroll, keep,
reading and export; and what the generator is told about the story."""

from __future__ import annotations

import pytest
from engine_testing import ANN, BEN, CHANNEL, GUILD, FakeClock, FakeGenerator, start_story

from bot.errors import NoActiveStory, StoryAlreadyRunning, StoryEnded, StoryPaused
from bot.story import EngineOptions, StoryEngine
from storage.models import StorySettings


async def test_whole_loop(engine: StoryEngine, generator: FakeGenerator, clock: FakeClock) -> None:
    started = await start_story(engine, mood="tense", ai_opening=True)
    assert started.opening is not None and started.opening.pending
    assert started.opening.kind == "opening"
    assert started.story.owner_name == "Ann" and [p.name for p in started.story.participants] == [
        "Ann"
    ]

    clock.advance(EngineOptions().pending_turn_hold_s)  # Ann's opening is no longer hers alone
    wrote = await engine.write(CHANNEL, BEN, "Ben", "Ben pushed the door open.")
    assert wrote.turn.byline == "Ben" and wrote.turn.state == "accepted"
    assert wrote.auto_kept is not None and wrote.auto_kept.id == started.opening.id
    assert wrote.auto_kept.byline == "model fake-1, kept by Ben"
    assert [p.name for p in wrote.story.participants] == ["Ann", "Ben"]

    await engine.character_create(
        GUILD, BEN, "Pip", description="a grey seal", personality="curious", speech_style="short"
    )
    said = await engine.ai_turn(CHANNEL, BEN, "dialogue", "Pip")
    assert said.turn.character_name == "Pip" and said.turn.kind == "dialogue"
    twist = await engine.ai_turn(CHANNEL, ANN, "twist")
    assert twist.auto_kept is not None and twist.auto_kept.id == said.turn.id
    rerolled = await engine.reroll(twist.turn.id, ANN)
    assert rerolled.rerolled and (rerolled.turn.alt_index, rerolled.turn.alt_count) == (2, 2)
    kept = await engine.keep(twist.turn.id, ANN)
    assert kept.discarded == 1 and kept.turn.byline == "model fake-1, kept by Ann"
    poem = await engine.ai_turn(CHANNEL, ANN, "poem", theme="the tide")
    assert poem.turn.kind == "poem"

    page = await engine.show(channel_id=CHANNEL)
    assert [t.kind for t in page.turns] == ["opening", "narration", "dialogue", "twist"]
    assert page.pending is not None and page.pending.id == poem.turn.id
    recap = await engine.recap(channel_id=CHANNEL)
    assert recap.lines[-1].pending and recap.total_turns == 4

    assert [r.kind for r in generator.requests] == [
        "opening",
        "dialogue",
        "twist",
        "twist",
        "poem",
    ]


async def test_the_request_carries_the_story(engine: StoryEngine, generator: FakeGenerator) -> None:
    await start_story(engine, mood="eerie", premise="A lighthouse keeper finds a door in the sea")
    await engine.write(CHANNEL, ANN, "Ann", "The keeper climbed the stairs.")
    await engine.write(CHANNEL, BEN, "Ben", "A light burned under the waves.")
    await engine.character_create(GUILD, ANN, "Marta", personality="stubborn", backstory="a widow")
    await engine.cast(CHANNEL, ANN, "Marta")
    await engine.ai_turn(CHANNEL, ANN, "dialogue", "marta")
    request = generator.requests[-1]
    context = request.context
    assert (context.genre, context.mood, context.title) == (
        "fantasy_adventure",
        "eerie",
        "The Lantern",
    )
    assert context.premise == "A lighthouse keeper finds a door in the sea"
    assert [(t.author, t.text) for t in context.turns] == [
        ("Ann", "The keeper climbed the stairs."),
        ("Ben", "A light burned under the waves."),
    ]
    assert [c.name for c in context.characters] == ["Marta"]
    assert context.characters[0].personality == "stubborn" and context.speaker == "Marta"
    assert request.params.n == 3 and request.params.max_tokens == 70
    assert request.moderation_level == "teen" and context.style_vector is None


async def test_context_includes_the_pending_turn_it_moves_past(
    engine: StoryEngine, generator: FakeGenerator
) -> None:
    await start_story(engine)
    first = await engine.ai_turn(CHANNEL, ANN)
    await engine.ai_turn(CHANNEL, ANN)
    assert [t.text for t in generator.requests[-1].context.turns] == [first.turn.text]


async def test_context_is_limited_to_the_latest_turns(
    storage, generator: FakeGenerator, moderator, clock
) -> None:
    engine = StoryEngine(storage, generator, moderator, EngineOptions(context_turns=3), clock=clock)
    await start_story(engine)
    for number in range(6):
        await engine.write(CHANNEL, ANN, "Ann", f"Turn {number}.")
    await engine.ai_turn(CHANNEL, ANN)
    assert [t.text for t in generator.requests[-1].context.turns] == [
        "Turn 3.",
        "Turn 4.",
        "Turn 5.",
    ]


async def test_export_markdown_has_bylines(engine: StoryEngine, clock: FakeClock) -> None:
    await start_story(engine, mood="calm", ai_opening=True)
    clock.advance(EngineOptions().pending_turn_hold_s)
    await engine.write(CHANNEL, BEN, "Ben", "The door creaked.")
    pending = await engine.ai_turn(CHANNEL, BEN)
    await engine.reroll(pending.turn.id, ANN)
    exported = await engine.export(channel_id=CHANNEL)
    markdown = exported.markdown
    assert markdown.startswith("# The Lantern\n")
    assert "*Genre: Fantasy adventure · Mood: calm · Started by Ann*" in markdown
    assert "> A door in the sea" in markdown
    assert "— *model fake-1, kept by Ben*" in markdown
    assert "The door creaked.\n\n— *Ben*" in markdown
    assert "*Waiting for Keep (kept automatically when the story moves on):*" in markdown
    assert "— *model fake-1, asked by Ann (not kept yet), alternative 2 of 2*" in markdown
    assert exported.filename == f"the-lantern-{exported.story.id}.md"


async def test_show_pages_and_ended_stories_stay_readable(engine: StoryEngine) -> None:
    started = await start_story(engine)
    for number in range(1, 8):
        await engine.write(CHANNEL, ANN, "Ann", f"Turn {number}.")
    last = await engine.show(channel_id=CHANNEL, page_size=3)
    assert (last.page, last.pages, last.total) == (3, 3, 7)
    assert [t.text for t in last.turns] == ["Turn 7."]
    first = await engine.show(channel_id=CHANNEL, page=1, page_size=3)
    assert [t.text for t in first.turns] == ["Turn 1.", "Turn 2.", "Turn 3."]
    await engine.end(CHANNEL, ANN)
    with pytest.raises(StoryEnded, match=f"show story:{started.story.id}"):
        await engine.show(channel_id=CHANNEL)
    by_id = await engine.show(story_id=started.story.id, guild_id=GUILD, page=2, page_size=3)
    assert by_id.story.status == "ended" and len(by_id.turns) == 3


async def test_recap_is_first_sentences_with_bylines(engine: StoryEngine) -> None:
    await start_story(engine)
    await engine.write(CHANNEL, ANN, "Ann", "The sea was calm. Then it was not.")
    await engine.write(CHANNEL, BEN, "Ben", '"Who goes there?" asked the gull. Nobody answered.')
    recap = await engine.recap(channel_id=CHANNEL, turns=5)
    assert [(line.sentence, line.byline) for line in recap.lines] == [
        ("The sea was calm.", "Ann"),
        ('"Who goes there?" asked the gull.', "Ben"),
    ]


async def test_one_story_per_channel_and_lifecycle(engine: StoryEngine) -> None:
    await start_story(engine)
    with pytest.raises(StoryAlreadyRunning):
        await start_story(engine, title="Another")
    await engine.pause(CHANNEL, ANN)
    with pytest.raises(StoryPaused):
        await engine.write(CHANNEL, ANN, "Ann", "Hello.")
    await engine.resume(CHANNEL, ANN)
    await engine.write(CHANNEL, ANN, "Ann", "Hello.")
    ended = await engine.end(CHANNEL, ANN)
    assert ended.story.status == "ended"
    said = f"The story here (#{ended.story.id}) has ended: read it with /story show story:"
    for late in (
        engine.write(CHANNEL, ANN, "Ann", "Too late."),
        engine.ai_turn(CHANNEL, ANN),
        engine.join(CHANNEL, BEN, "Ben"),
    ):
        with pytest.raises(StoryEnded) as refused:
            await late
        assert str(refused.value).startswith(said) and "/story start" in str(refused.value)
    listed = await engine.list_stories(GUILD)
    assert [(s.title, s.status) for s in listed.stories] == [("The Lantern", "ended")]
    again = await start_story(engine, title="The Second Lantern")
    assert again.story.status == "active"


async def test_ending_keeps_the_pending_turn(engine: StoryEngine) -> None:
    started = await start_story(engine)
    pending = await engine.ai_turn(CHANNEL, ANN)
    await engine.end(CHANNEL, ANN)
    page = await engine.show(story_id=started.story.id)
    assert [t.id for t in page.turns] == [pending.turn.id] and page.pending is None
    with pytest.raises(StoryEnded):
        await engine.keep(pending.turn.id, ANN)


async def test_settings_show_and_change(engine: StoryEngine) -> None:
    await start_story(engine)
    shown = await engine.settings(CHANNEL, BEN)
    assert shown.changed == {} and shown.story.reroll_policy == "owner"
    changed = await engine.settings(
        CHANNEL,
        ANN,
        title="The Deep Lantern",
        mood="sad",
        reroll_policy="vote",
        style_matching=True,
    )
    story = changed.story
    assert (story.title, story.mood, story.reroll_policy, story.style_matching) == (
        "The Deep Lantern",
        "sad",
        "vote",
        True,
    )


async def test_thread_stories_are_found_by_thread(engine: StoryEngine) -> None:
    await engine.start(
        GUILD,
        CHANNEL,
        ANN,
        "Ann",
        StorySettings(title="In a thread", genre="mystery"),
        thread_id=9001,
    )
    wrote = await engine.write(9001, ANN, "Ann", "In the thread.")
    assert wrote.story.thread_id == 9001 and wrote.story.place_id == 9001
    with pytest.raises(NoActiveStory):
        await engine.write(CHANNEL, ANN, "Ann", "Not here.")


async def test_real_generator_end_to_end(storage, moderator, clock, tiny_checkpoint) -> None:
    """The engine over the real in-process generator and the tiny trained checkpoint."""
    import torch

    from generators.client import InProcessGenerator

    torch.set_num_threads(1)
    generator = InProcessGenerator.from_checkpoints(
        [tiny_checkpoint], threads=1, moderator=moderator
    )
    engine = StoryEngine(
        storage, generator, moderator, EngineOptions(max_tokens=24, candidates=2), clock=clock
    )
    await engine.start(
        GUILD,
        CHANNEL,
        ANN,
        "Ann",
        StorySettings(title="The Cat", genre="children", premise="A cat and a ball"),
    )
    await engine.write(CHANNEL, ANN, "Ann", "Once upon a time, there was a little cat named Tom.")
    result = await engine.ai_turn(CHANNEL, ANN)
    assert result.turn.text.strip() and result.turn.pending
    assert result.turn.model_id and result.turn.byline.startswith(f"model {result.turn.model_id}")
    rerolled = await engine.reroll(result.turn.id, ANN)
    assert rerolled.turn.alt_count == 2
    await generator.aclose()
