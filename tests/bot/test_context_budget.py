"""A story's context is budgeted to what the generator accepts: the newest turns stay, the
oldest go, sheets and premise are cut, and the total never passes the limit."""

from __future__ import annotations

import random

import pytest
from engine_testing import ANN, CHANNEL, FakeGenerator, start_story

from bot.story import EngineOptions, StoryEngine
from bot.story.context import fit_budget
from generators.context_size import MAX_CONTEXT_CHARS, context_chars, sheet_chars
from generators.schemas import CharacterSheet, StoryContext, TurnContext


def long_turns(count: int, size: int) -> list[TurnContext]:
    return [
        TurnContext(author="Ann", text=f"{index:04d}" + "w" * (size - 4)) for index in range(count)
    ]


def sheet(name: str, size: int) -> CharacterSheet:
    return CharacterSheet(
        name=name,
        description="d" * min(2000, size),
        personality="p" * min(2000, size),
        speech_style="s" * min(1000, size),
        backstory="b" * min(4000, size),
    )


def full_context(
    turns: int = 50, turn_size: int = 1800, sheets: int = 6, sheet_size: int = 4000
) -> StoryContext:
    return StoryContext(
        genre="fantasy_adventure",
        title="T" * 200,
        premise="P" * 2000,
        turns=long_turns(turns, turn_size),
        characters=[sheet(f"Hero {index}", sheet_size) for index in range(sheets)],
        speaker="Hero 4",
        theme="Q" * 300,
    )


def test_a_context_that_fits_is_sent_as_it_is() -> None:
    context = full_context(turns=3, turn_size=200, sheets=2, sheet_size=1000)
    assert context_chars(context) < MAX_CONTEXT_CHARS
    assert fit_budget(context, MAX_CONTEXT_CHARS) is context


def test_a_long_story_keeps_its_newest_turns_and_drops_the_oldest() -> None:
    context = full_context()
    assert context_chars(context) > MAX_CONTEXT_CHARS
    fitted = fit_budget(context, MAX_CONTEXT_CHARS)
    assert context_chars(fitted) <= MAX_CONTEXT_CHARS
    kept = fitted.turns
    assert kept and kept == context.turns[-len(kept) :], "a run of the newest turns, in order"
    assert len(kept) < len(context.turns), "the oldest turns were left out"
    assert kept[-1] is context.turns[-1]
    assert fitted.title == context.title and fitted.theme == context.theme
    assert fitted.premise == context.premise[: len(fitted.premise)]
    assert fitted.speaker == "Hero 4"
    assert "Hero 4" in [c.name for c in fitted.characters], "the speaker's sheet stays"
    assert [c.name for c in fitted.characters] == sorted(c.name for c in fitted.characters)
    assert StoryContext.model_validate(fitted.model_dump()) == fitted


def test_sheets_give_way_to_turns_but_keep_a_quarter() -> None:
    fitted = fit_budget(full_context(sheets=25), MAX_CONTEXT_CHARS)
    assert sum(sheet_chars(c) for c in fitted.characters) > MAX_CONTEXT_CHARS // 5
    assert sum(len(t.text) for t in fitted.turns) > MAX_CONTEXT_CHARS // 2
    speaker = next(c for c in fitted.characters if c.name == "Hero 4")
    assert speaker.description, "each sheet keeps the start of its first field"


def test_the_newest_turn_alone_keeps_its_end_when_it_is_too_long() -> None:
    context = StoryContext(turns=[TurnContext(text="old"), TurnContext(text="x" * 10 + "END")])
    fitted = fit_budget(context, 8)
    assert [t.text for t in fitted.turns] == ["x" * 5 + "END"]


@pytest.mark.parametrize("seed", range(40))
def test_any_context_fits_any_budget(seed: int) -> None:
    rng = random.Random(seed)
    context = StoryContext(
        title="T" * rng.randint(0, 200),
        premise="P" * rng.randint(0, 2000),
        theme="Q" * rng.randint(0, 300),
        turns=long_turns(rng.randint(0, 200), rng.randint(4, 4000)),
        characters=[
            sheet(f"C{index}", rng.randint(0, 4000)) for index in range(rng.randint(0, 25))
        ],
        speaker=f"C{rng.randint(0, 30)}",
    )
    limit = rng.randint(600, 30_000)
    fitted = fit_budget(context, limit)
    assert context_chars(fitted) <= limit
    if context.turns:
        assert (
            fitted.turns
            and fitted.turns[-1].text == context.turns[-1].text[-len(fitted.turns[-1].text) :]
        )


async def test_the_engine_budgets_a_long_story_to_the_generators_limit(
    storage, moderator, clock
) -> None:
    generator = FakeGenerator(["The tale went on."])
    limit = 6000
    engine = StoryEngine(
        storage, generator, moderator, EngineOptions(context_chars=limit), clock=clock
    )
    await start_story(engine, premise="A door in the sea. " * 100)
    for index in range(30):
        await engine.write(CHANNEL, ANN, "Ann", f"Turn {index:02d} " + "a" * 1700)
    await engine.ai_turn(CHANNEL, ANN, "continue", user_name="Ann")
    sent = generator.requests[-1].context
    assert context_chars(sent) <= limit
    assert sent.turns[-1].text.startswith("Turn 29 ")
    assert not any(t.text.startswith("Turn 00 ") for t in sent.turns)
