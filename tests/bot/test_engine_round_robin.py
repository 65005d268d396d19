"""Round-robin: seat order, out-of-turn refusals, passing the turn, and deadlines that survive a
restart and are skipped or written by the model."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from engine_testing import ANN, BEN, CAT, CHANNEL, GUILD, FakeClock, FakeGenerator, start_story

from bot.errors import NotParticipant, NotYourTurn, PermissionDenied, UserFacingError
from bot.story import EngineOptions, StoryEngine
from generators.errors import GeneratorUnavailable
from storage.sqlite import open_storage


async def round_robin(engine: StoryEngine, seconds: int | None = 300, action: str = "skip"):
    started = await start_story(
        engine, mode="round_robin", turn_timeout_s=seconds, timeout_action=action
    )
    await engine.join(CHANNEL, BEN, "Ben")
    await engine.join(CHANNEL, CAT, "Cat")
    return started


async def test_turns_go_round_in_seat_order(engine: StoryEngine) -> None:
    await round_robin(engine, seconds=None)
    order = []
    for user, name in [(ANN, "Ann"), (BEN, "Ben"), (CAT, "Cat"), (ANN, "Ann")]:
        result = await engine.write(CHANNEL, user, name, f"{name} writes.")
        order.append(result.story.current_writer.name)
    assert order == ["Ben", "Cat", "Ann", "Ben"]


async def test_out_of_turn_is_refused_with_the_writers_name(engine: StoryEngine) -> None:
    await round_robin(engine)
    with pytest.raises(NotYourTurn, match="It's Ann's turn"):
        await engine.write(CHANNEL, BEN, "Ben", "Me first!")
    with pytest.raises(NotYourTurn, match="It's Ann's turn"):
        await engine.ai_turn(CHANNEL, CAT, "continue")
    with pytest.raises(NotParticipant):
        await engine.write(CHANNEL, 99, "Stranger", "Hello?")
    page = await engine.show(channel_id=CHANNEL)
    assert page.total == 0


async def test_an_ai_turn_asked_by_the_writer_counts_as_their_turn(engine: StoryEngine) -> None:
    await round_robin(engine)
    result = await engine.ai_turn(CHANNEL, ANN, "continue")
    assert result.story.current_writer.name == "Ben"
    wrote = await engine.write(CHANNEL, BEN, "Ben", "Ben follows the model.")
    assert wrote.auto_kept is not None and wrote.auto_kept.id == result.turn.id


async def test_leaving_while_holding_the_turn_passes_it(
    engine: StoryEngine, clock: FakeClock
) -> None:
    await round_robin(engine)
    clock.advance(100)
    left = await engine.leave(CHANNEL, ANN)
    assert left.passed_turn and left.story.current_writer.name == "Ben"
    assert left.story.turn_deadline == clock.now + 300
    rejoined = await engine.join(CHANNEL, ANN, "Ann")
    assert [p.name for p in rejoined.story.participants] == ["Ben", "Cat", "Ann"]
    with pytest.raises(NotParticipant):
        await engine.leave(CHANNEL, 99)


async def test_deadline_is_stored_and_survives_a_restart(
    db_path: Path, moderator, clock: FakeClock
) -> None:
    storage = await open_storage(db_path, clock=clock)
    engine = StoryEngine(storage, FakeGenerator(), moderator, clock=clock)
    await round_robin(engine, seconds=60)
    story = (await engine.status(CHANNEL)).story
    assert story.turn_deadline == clock.now + 60
    await storage.close()

    clock.advance(61)
    reopened = await open_storage(db_path, clock=clock)
    restarted = StoryEngine(reopened, FakeGenerator(), moderator, clock=clock)
    try:
        events = await restarted.process_due()
        assert [(e.action, e.missed.name, e.story.current_writer.name) for e in events] == [
            ("skipped", "Ann", "Ben")
        ]
        assert (
            events[0].message == "Ann's time ran out, so their turn was skipped. It's Ben's turn."
        )
        assert events[0].story.turn_deadline == clock.now + 60
        assert await restarted.process_due() == []
    finally:
        await reopened.close()


async def test_deadlines_not_yet_due_are_left_alone(engine: StoryEngine, clock: FakeClock) -> None:
    await round_robin(engine, seconds=60)
    clock.advance(59)
    assert await engine.process_due() == []
    assert (await engine.status(CHANNEL)).story.current_writer.name == "Ann"


async def test_timeout_ai_writes_as_the_players_character(
    engine: StoryEngine, generator: FakeGenerator, clock: FakeClock
) -> None:
    await round_robin(engine, seconds=30, action="ai")
    await engine.write(CHANNEL, ANN, "Ann", "Ann writes.")
    await engine.character_create(GUILD, BEN, "Pip", personality="curious")
    cast = await engine.cast(CHANNEL, BEN, "Pip")
    assert cast.plays_as
    clock.advance(31)
    events = await engine.process_due()
    assert len(events) == 1
    event = events[0]
    assert event.action == "ai_wrote" and event.missed.name == "Ben"
    assert event.turn.state == "accepted" and event.turn.character_name == "Pip"
    assert event.turn.byline == "model fake-1 as Pip, written for Ben when their turn timed out"
    assert (
        generator.requests[-1].kind == "dialogue"
        and generator.requests[-1].context.speaker == "Pip"
    )
    assert event.story.current_writer.name == "Cat"
    page = await engine.show(channel_id=CHANNEL)
    assert page.pending is None and page.turns[-1].id == event.turn.id


async def test_timeout_ai_without_a_character_narrates(
    engine: StoryEngine, generator: FakeGenerator, clock: FakeClock
) -> None:
    await round_robin(engine, seconds=30, action="ai")
    clock.advance(31)
    events = await engine.process_due()
    assert events[0].turn.kind == "narration" and generator.requests[-1].kind == "continue"


async def test_timeout_ai_with_the_model_down_skips(storage, moderator, clock: FakeClock) -> None:
    down = FakeGenerator(error=GeneratorUnavailable("service offline"))
    engine = StoryEngine(storage, down, moderator, EngineOptions(), clock=clock)
    await round_robin(engine, seconds=30, action="ai")
    clock.advance(31)
    events = await engine.process_due()
    assert events[0].action == "skipped" and "could not write for them" in events[0].message
    assert "service offline" not in events[0].message
    assert events[0].story.current_writer.name == "Ben"
    assert (await engine.show(channel_id=CHANNEL)).total == 0


async def test_pause_stops_the_clock_and_resume_restarts_it(
    engine: StoryEngine, clock: FakeClock
) -> None:
    await round_robin(engine, seconds=60)
    paused = await engine.pause(CHANNEL, ANN)
    assert paused.story.turn_deadline is None
    clock.advance(1000)
    assert await engine.process_due() == []
    resumed = await engine.resume(CHANNEL, ANN)
    assert resumed.story.turn_deadline == clock.now + 60
    assert resumed.story.current_writer.name == "Ann"


async def test_skip_by_the_owner_or_the_writer(engine: StoryEngine) -> None:
    await round_robin(engine, seconds=None)
    skipped = await engine.skip(CHANNEL, ANN)
    assert skipped.skipped.name == "Ann" and skipped.story.current_writer.name == "Ben"
    with pytest.raises(PermissionDenied, match="owner or a moderator"):
        await engine.skip(CHANNEL, CAT)
    moved = await engine.skip(CHANNEL, BEN)
    assert moved.story.current_writer.name == "Cat"


async def test_switching_to_round_robin_starts_the_clock(
    engine: StoryEngine, clock: FakeClock
) -> None:
    await start_story(engine)
    await engine.join(CHANNEL, BEN, "Ben")
    changed = await engine.settings(CHANNEL, ANN, mode="round_robin", turn_timeout_s=120)
    assert changed.story.current_writer.name == "Ann"
    assert changed.story.turn_deadline == clock.now + 120
    off = await engine.settings(CHANNEL, ANN, turn_timeout_s=None)
    assert off.story.turn_deadline is None


CRASHES = {
    "before the seat moves": (
        "BEFORE UPDATE OF current_seat ON stories BEGIN SELECT RAISE(ABORT, 'killed'); END"
    ),
    "before the stand-in is kept": (
        f"BEFORE UPDATE OF state ON turns WHEN OLD.author_id = {BEN} "
        "BEGIN SELECT RAISE(ABORT, 'killed'); END"
    ),
    "after the stand-in is stored": (
        f"AFTER INSERT ON turns WHEN NEW.author_id = {BEN} BEGIN SELECT RAISE(ABORT, 'killed'); END"
    ),
}


@pytest.mark.parametrize("crash", CRASHES.values(), ids=list(CRASHES))
async def test_a_crash_during_a_stand_in_leaves_none_or_one_after_a_restart(
    db_path: Path, moderator, clock: FakeClock, crash: str
) -> None:
    """The process dies at one step of the timeout's stand-in (a temporary trigger on the first
    connection aborts it there); a second process on the same file then handles the deadline.
    The story must hold exactly one stand-in, with the turn passed on exactly once."""
    first = await open_storage(db_path, clock=clock)
    engine = StoryEngine(first, FakeGenerator(), moderator, clock=clock)
    await round_robin(engine, seconds=30, action="ai")
    asked = await engine.ai_turn(CHANNEL, ANN, "continue")
    assert asked.story.current_writer.name == "Ben"
    clock.advance(31)
    await first.database.run(lambda conn: conn.execute(f"CREATE TEMP TRIGGER crash {crash}"))
    with contextlib.suppress(UserFacingError):  # unless the code has no such step
        await engine.process_due()

    reopened = await open_storage(db_path, clock=clock)
    try:
        story = await reopened.stories.get(asked.story.id)
        kept = await reopened.turns.page(story.id)
        stand_ins = [t for t in kept if t.author_kind == "model" and t.author_id == BEN]
        assert len(stand_ins) <= 1
        moved = story.current_seat != asked.story.current_writer.seat
        assert moved == bool(stand_ins)

        restarted = StoryEngine(reopened, FakeGenerator(), moderator, clock=clock)
        events = await restarted.process_due()
        assert [e.action for e in events] == ([] if stand_ins else ["ai_wrote"])
        assert await restarted.process_due() == []

        status = await restarted.status(CHANNEL)
        assert status.story.current_writer.name == "Cat"
        kept = await reopened.turns.page(story.id)
        assert [(t.author_kind, t.author_id) for t in kept] == [("model", ANN), ("model", BEN)]
        assert await reopened.turns.pending_for_story(story.id) == []
    finally:
        await reopened.close()
        await first.close()
