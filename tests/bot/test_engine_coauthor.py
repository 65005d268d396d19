"""The model as a co-author: its own seat in the round-robin order, written once per rotation
from stored state (so after a restart too), in the voice the story chose, stopped by a pause
or by taking its seat away."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from engine_testing import ANN, BEN, CAT, CHANNEL, GUILD, FakeClock, FakeGenerator, start_story

from bot.console.commands import Session
from bot.console.console import Console
from bot.console.render import Renderer
from bot.errors import InvalidInput, NotYourTurn
from bot.story import StoryEngine
from bot.story.turns import MODEL_USER_ID
from storage.sqlite import open_storage


async def seated_story(engine: StoryEngine, seconds: int | None = None, voice: str | None = None):
    """Ann, then the model, then Ben: the model is seated before Ben joins."""
    await start_story(engine, mode="round_robin", turn_timeout_s=seconds)
    changes = {"model_seat": True} | ({"model_voice": voice} if voice else {})
    settings = await engine.settings(CHANNEL, ANN, **changes)
    await engine.join(CHANNEL, BEN, "Ben")
    return settings


async def test_the_rotation_goes_ann_model_ben_and_the_model_writes_once(
    engine: StoryEngine, generator: FakeGenerator
) -> None:
    settings = await seated_story(engine)
    assert settings.story.model_seat and settings.changed == {"model_seat": True}
    wrote = await engine.write(CHANNEL, ANN, "Ann", "Ann lights the lamp.")
    assert wrote.story.current_writer.user_id == MODEL_USER_ID
    with pytest.raises(NotYourTurn, match="the model's turn"):
        await engine.write(CHANNEL, BEN, "Ben", "Too soon.")

    [event] = await engine.process_due()
    assert event.action == "model_wrote" and event.message.startswith("The model wrote its turn.")
    assert event.turn.state == "accepted" and event.turn.kind == "narration"
    assert event.turn.byline == "model fake-1, in its own seat"
    assert event.story.current_writer.name == "Ben"
    assert await engine.process_due() == []
    assert len(generator.requests) == 1

    await engine.write(CHANNEL, BEN, "Ben", "Ben answers.")
    assert (await engine.status(CHANNEL)).story.current_writer.name == "Ann"
    page = await engine.show(channel_id=CHANNEL)
    assert [t.text for t in page.turns] == [
        "Ann lights the lamp.",
        event.turn.text,
        "Ben answers.",
    ]


async def test_the_models_seat_survives_a_restart(db_path: Path, moderator, clock: FakeClock):
    storage = await open_storage(db_path, clock=clock)
    engine = StoryEngine(storage, FakeGenerator(), moderator, clock=clock)
    await seated_story(engine, seconds=600)
    await engine.write(CHANNEL, ANN, "Ann", "Ann writes, and the bot goes down.")
    await storage.close()

    async with await open_storage(db_path, clock=clock) as reopened:
        restarted = StoryEngine(reopened, FakeGenerator(), moderator, clock=clock)
        [event] = await restarted.process_due()
        assert event.action == "model_wrote"
        assert event.story.current_writer.name == "Ben"
        assert event.story.turn_deadline == clock.now + 600
        assert await restarted.process_due() == []
        assert (await restarted.show(channel_id=CHANNEL)).total == 2


async def test_pause_stops_the_model_and_resume_lets_it_write(
    engine: StoryEngine, generator: FakeGenerator, clock: FakeClock
) -> None:
    await seated_story(engine)
    await engine.write(CHANNEL, ANN, "Ann", "Ann writes.")
    await engine.pause(CHANNEL, ANN)
    clock.advance(3600)
    assert await engine.process_due() == []
    assert generator.requests == []
    await engine.resume(CHANNEL, ANN)
    [event] = await engine.process_due()
    assert event.action == "model_wrote"


async def test_taking_the_seat_away_while_it_holds_the_turn_passes_it_on(
    engine: StoryEngine, generator: FakeGenerator
) -> None:
    await seated_story(engine)
    await engine.write(CHANNEL, ANN, "Ann", "Ann writes.")
    off = await engine.settings(CHANNEL, ANN, model_seat=False)
    assert not off.story.model_seat and off.story.current_writer.name == "Ben"
    assert await engine.process_due() == []
    assert generator.requests == []
    await engine.write(CHANNEL, BEN, "Ben", "Ben writes.")
    assert (await engine.status(CHANNEL)).story.current_writer.name == "Ann"


async def test_members_who_join_later_sit_after_the_model(engine: StoryEngine) -> None:
    await seated_story(engine)
    await engine.join(CHANNEL, CAT, "Cat")
    order = []
    for user, name in [(ANN, "Ann"), (None, None), (BEN, "Ben"), (CAT, "Cat"), (ANN, "Ann")]:
        if user is None:
            [event] = await engine.process_due()
            order.append(event.story.current_writer.name)
        else:
            result = await engine.write(CHANNEL, user, name, f"{name} writes.")
            order.append(result.story.current_writer.name)
    assert order == ["the model", "Ben", "Cat", "Ann", "the model"]


async def test_the_model_voices_unplayed_characters_in_turn_and_twists_every_fifth(
    engine: StoryEngine, generator: FakeGenerator
) -> None:
    await seated_story(engine, voice="mixed")
    for owner, name in [(ANN, "Pip"), (ANN, "Mira"), (ANN, "Wren"), (BEN, "Odo")]:
        await engine.character_create(GUILD, owner, name, personality="odd")
        await engine.cast(CHANNEL, owner, name)
    played = await engine.status(CHANNEL)
    assert [p.character_name for p in played.story.participants] == ["Pip", "Odo"]
    voices = []
    for _ in range(5):
        await engine.write(CHANNEL, ANN, "Ann", "Ann writes.")
        [event] = await engine.process_due()
        voices.append((event.turn.kind, event.turn.character_name))
        await engine.write(CHANNEL, BEN, "Ben", "Ben writes.")
    assert voices == [
        ("dialogue", "Mira"),
        ("dialogue", "Wren"),
        ("dialogue", "Mira"),
        ("dialogue", "Wren"),
        ("twist", None),
    ]
    assert [r.kind for r in generator.requests] == ["dialogue"] * 4 + ["twist"]


async def test_a_model_seat_needs_round_robin_and_a_known_voice(engine: StoryEngine) -> None:
    await start_story(engine)
    with pytest.raises(InvalidInput, match="only in a round-robin story"):
        await engine.settings(CHANNEL, ANN, model_seat=True)
    with pytest.raises(InvalidInput, match="Unknown model voice"):
        await engine.settings(CHANNEL, ANN, model_voice="poetry")
    both = await engine.settings(CHANNEL, ANN, mode="round_robin", model_seat=True)
    assert both.story.model_seat and both.story.mode == "round_robin"


async def test_the_model_alone_takes_no_turns(
    engine: StoryEngine, generator: FakeGenerator
) -> None:
    await seated_story(engine)
    await engine.leave(CHANNEL, BEN)
    await engine.write(CHANNEL, ANN, "Ann", "Ann writes.")
    await engine.leave(CHANNEL, ANN)
    assert await engine.process_due() == []
    status = await engine.status(CHANNEL)
    assert status.story.current_writer is None and status.story.turn_deadline is None
    joined = await engine.join(CHANNEL, CAT, "Cat")
    assert joined.story.current_writer.name == "Cat"
    assert await engine.process_due() == []
    assert len(generator.requests) == 0


async def test_the_terminal_seats_the_model_and_it_writes_before_the_next_command(
    storage, moderator, clock: FakeClock
) -> None:
    engine = StoryEngine(storage, FakeGenerator(), moderator, clock=clock)
    out = io.StringIO()
    console = Console(Session(engine, "Ann"), Renderer(80, clock), out)
    status = await console.run_script(
        [
            '/story start title:"Seats" genre:mystery mode:round_robin',
            "/story settings model_seat:on voice:narration",
            "/as Ben",
            "/story join",
            "/as Ann",
            "Ann begins.",
            "/story status",
        ]
    )
    transcript = out.getvalue()
    assert status == 0, transcript
    assert "model seat: on (voice: narration)" in transcript
    assert "[model] The model wrote its turn. It's Ben's turn." in transcript
    assert transcript.rstrip().endswith("It's Ben's turn.")
