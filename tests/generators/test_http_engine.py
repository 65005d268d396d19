"""The story engine in HTTP mode against a live generation service on loopback: a story longer
than the service accepts in one request keeps getting model turns (continue, reroll, twist,
dialogue, poem, and the stand-in for a writer whose time ran out)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from test_service_support import running_service

from bot.story import EngineOptions, StoryEngine
from generators.client import HttpGenerator
from generators.context_size import MAX_CONTEXT_CHARS
from generators.moderation import Moderator
from storage.models import StorySettings
from storage.sqlite import open_storage

GUILD, FREE, ROUND = 7, 100, 200
ANN, BEN = 1, 2
LONG_TURN = ("The lantern swayed over the quiet harbour while the gulls slept. " * 30)[:1800]
TURNS = 2 * MAX_CONTEXT_CHARS // len(LONG_TURN) + 2
"""Enough turns of the longest size a person may write for twice what the service accepts."""


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def service(tiny_checkpoint: Path):
    with running_service(tiny_checkpoint) as server:
        yield server


@pytest.fixture
async def engine(service, tmp_path: Path) -> AsyncIterator[tuple[StoryEngine, Clock]]:
    clock = Clock()
    generator = HttpGenerator([service.url], timeout_s=120.0)
    options = EngineOptions(max_tokens=16, candidates=1, generation_timeout_s=120.0)
    async with await open_storage(tmp_path / "talewright.db", clock=clock) as storage:
        yield (
            StoryEngine(storage, generator, Moderator(use_classifier=False), options, clock=clock),
            clock,
        )
    await generator.aclose()


async def write_long_story(engine: StoryEngine, channel: int, *writers: tuple[int, str]) -> None:
    for index in range(TURNS):
        user, name = writers[index % len(writers)]
        await engine.write(channel, user, name, LONG_TURN)


async def test_a_long_story_keeps_getting_model_turns_over_http(engine) -> None:
    engine, _ = engine
    await engine.start(
        GUILD,
        FREE,
        ANN,
        "Ann",
        StorySettings(title="The Harbour", genre="children", premise="A lost key"),
    )
    await engine.character_create(GUILD, ANN, "Mira", personality="brave and kind")
    await write_long_story(engine, FREE, (ANN, "Ann"))
    assert TURNS * len(LONG_TURN) > MAX_CONTEXT_CHARS

    made = await engine.ai_turn(FREE, ANN, "continue", user_name="Ann")
    assert made.turn.author_kind == "model" and made.turn.text
    rerolled = await engine.reroll(made.turn.id, ANN, user_name="Ann")
    assert rerolled.rerolled and rerolled.turn.id != made.turn.id
    twist = await engine.ai_turn(FREE, ANN, "twist", user_name="Ann")
    said = await engine.ai_turn(FREE, ANN, "dialogue", "Mira", user_name="Ann")
    poem = await engine.ai_turn(FREE, ANN, "poem", theme="the sea at night", user_name="Ann")
    assert [twist.turn.kind, said.turn.kind, poem.turn.kind] == ["twist", "dialogue", "poem"]
    assert said.turn.character_name == "Mira"
    assert all(r.turn.model_id == "tiny" for r in (made, twist, said, poem))


async def test_a_long_round_robin_story_gets_its_stand_in_over_http(engine) -> None:
    engine, clock = engine
    await engine.start(
        GUILD,
        ROUND,
        ANN,
        "Ann",
        StorySettings(
            title="The Harbour",
            genre="children",
            mode="round_robin",
            turn_timeout_s=60,
            timeout_action="ai",
        ),
    )
    await engine.join(ROUND, BEN, "Ben")
    await write_long_story(engine, ROUND, (ANN, "Ann"), (BEN, "Ben"))
    clock.now += 61
    events = await engine.process_due()
    assert [event.action for event in events] == ["ai_wrote"], events[0].message
    assert events[0].turn is not None and events[0].turn.author_kind == "model"
