"""Pending turns: rerolls kept as alternatives, swipes, keep, the automatic keep of the shown
alternative, reroll policies (owner and vote), undo, and one turn at a time per story."""

from __future__ import annotations

import asyncio

import pytest
from engine_testing import ANN, BEN, CAT, CHANNEL, FakeClock, FakeGenerator, start_story

from bot.errors import InvalidInput, NotParticipant, PermissionDenied, TurnInProgress
from bot.story import EngineOptions, StoryEngine


async def test_rerolls_are_kept_as_alternatives(engine: StoryEngine) -> None:
    await start_story(engine)
    first = await engine.ai_turn(CHANNEL, ANN)
    second = await engine.reroll(first.turn.id, ANN)
    third = await engine.reroll(second.turn.id, ANN)
    assert [(r.turn.alt_index, r.turn.alt_count) for r in (second, third)] == [(2, 2), (3, 3)]
    texts = {first.turn.text, second.turn.text, third.turn.text}
    assert len(texts) == 3
    assert third.turn.slot == first.turn.slot
    waiting = await engine.pending(CHANNEL)
    assert waiting is not None and waiting.id == third.turn.id


async def test_a_reroll_asks_the_generator_not_to_repeat_the_alternatives_so_far(
    engine: StoryEngine, generator: FakeGenerator
) -> None:
    """The story's best corpus passage would win every reroll of the same story; the request
    names the texts already offered so that a swipe shows a new turn."""
    await start_story(engine)
    first = await engine.ai_turn(CHANNEL, ANN)
    second = await engine.reroll(first.turn.id, ANN)
    await engine.reroll(second.turn.id, ANN)
    asks = generator.requests[-3:]
    assert [r.params.avoid for r in asks] == [
        [],
        [first.turn.text],
        [first.turn.text, second.turn.text],
    ]


async def test_swipe_moves_between_alternatives_and_stops_at_the_ends(engine: StoryEngine) -> None:
    await start_story(engine)
    first = await engine.ai_turn(CHANNEL, ANN)
    second = await engine.reroll(first.turn.id, ANN)
    back = await engine.swipe(second.turn.id, ANN, -1)
    assert back.moved and back.turn.id == first.turn.id and back.turn.alt_index == 1
    stuck = await engine.swipe(back.turn.id, ANN, -1)
    assert not stuck.moved and stuck.notices == (
        "This is the first alternative; /story reroll writes another.",
    )
    forward = await engine.swipe(back.turn.id, ANN, 1)
    assert forward.turn.id == second.turn.id


async def test_moving_on_keeps_the_alternative_shown_last(
    engine: StoryEngine, clock: FakeClock
) -> None:
    await start_story(engine)
    first = await engine.ai_turn(CHANNEL, ANN)
    await engine.reroll(first.turn.id, ANN)
    await engine.swipe(first.turn.id, ANN, 0)
    clock.advance(EngineOptions().pending_turn_hold_s)  # Ben may move past Ann's turn now
    wrote = await engine.write(CHANNEL, BEN, "Ben", "Ben writes on.")
    assert wrote.auto_kept is not None and wrote.auto_kept.id == first.turn.id
    page = await engine.show(channel_id=CHANNEL)
    assert [t.id for t in page.turns] == [first.turn.id, wrote.turn.id]
    assert page.turns[0].byline == "model fake-1, kept by Ben"


async def test_a_new_alternative_is_the_one_shown(engine: StoryEngine) -> None:
    await start_story(engine)
    first = await engine.ai_turn(CHANNEL, ANN)
    await engine.swipe(first.turn.id, ANN, 0)
    newest = await engine.reroll(first.turn.id, ANN)
    wrote = await engine.write(CHANNEL, ANN, "Ann", "On we go.")
    assert wrote.auto_kept.id == newest.turn.id


async def test_keep_accepts_exactly_that_alternative(engine: StoryEngine) -> None:
    await start_story(engine)
    first = await engine.ai_turn(CHANNEL, ANN)
    second = await engine.reroll(first.turn.id, ANN)
    kept = await engine.keep(first.turn.id, ANN)
    assert kept.turn.id == first.turn.id and kept.discarded == 1
    assert await engine.pending(CHANNEL) is None
    with pytest.raises(InvalidInput, match="discarded"):
        await engine.keep(second.turn.id, ANN)
    with pytest.raises(InvalidInput, match="already kept"):
        await engine.reroll(first.turn.id, ANN)
    again = await engine.keep(first.turn.id, ANN)
    assert again.discarded == 0


async def test_choosing_is_for_the_asker_the_owner_or_a_moderator(engine: StoryEngine) -> None:
    await start_story(engine)
    asked = await engine.ai_turn(CHANNEL, BEN)
    with pytest.raises(PermissionDenied, match="person who asked"):
        await engine.keep(asked.turn.id, CAT)
    with pytest.raises(PermissionDenied):
        await engine.swipe(asked.turn.id, CAT, 1)
    assert (await engine.keep(asked.turn.id, CAT, is_moderator=True)).turn.state == "accepted"


async def test_owner_policy_rerolls_are_for_the_owner_or_a_moderator(engine: StoryEngine) -> None:
    await start_story(engine)
    asked = await engine.ai_turn(CHANNEL, BEN)
    with pytest.raises(PermissionDenied, match="reroll"):
        await engine.reroll(asked.turn.id, BEN)
    by_moderator = await engine.reroll(asked.turn.id, CAT, is_moderator=True)
    by_owner = await engine.reroll(asked.turn.id, ANN)
    assert by_moderator.rerolled and by_owner.turn.alt_count == 3


async def vote_story(engine: StoryEngine) -> int:
    await start_story(engine, reroll_policy="vote")
    await engine.join(CHANNEL, BEN, "Ben")
    await engine.join(CHANNEL, CAT, "Cat")
    return (await engine.ai_turn(CHANNEL, ANN)).turn.id


async def test_vote_policy_needs_a_majority(engine: StoryEngine) -> None:
    turn_id = await vote_story(engine)
    first = await engine.reroll(turn_id, BEN)
    assert not first.rerolled and str(first.votes) == "1 of 3 votes, need 2"
    assert first.turn.id == turn_id
    again = await engine.reroll(turn_id, BEN)
    assert str(again.votes) == "1 of 3 votes, need 2"
    passed = await engine.reroll(turn_id, CAT)
    assert passed.rerolled and str(passed.votes) == "2 of 3 votes, need 2"
    assert passed.votes.voters == ("Ben", "Cat") and passed.turn.alt_count == 2
    fresh = await engine.reroll(passed.turn.id, ANN)
    assert not fresh.rerolled and str(fresh.votes) == "1 of 3 votes, need 2"


async def test_votes_expire_after_the_window(
    storage, generator: FakeGenerator, moderator, clock: FakeClock
) -> None:
    engine = StoryEngine(
        storage, generator, moderator, EngineOptions(reroll_vote_window_s=60), clock=clock
    )
    turn_id = await vote_story(engine)
    await engine.reroll(turn_id, BEN)
    clock.advance(61)
    late = await engine.reroll(turn_id, CAT)
    assert not late.rerolled and late.votes.voters == ("Cat",)
    renewed = await engine.reroll(turn_id, BEN)
    assert renewed.rerolled and renewed.votes.voters == ("Ben", "Cat")


async def test_only_members_vote(engine: StoryEngine) -> None:
    turn_id = await vote_story(engine)
    with pytest.raises(NotParticipant, match="vote"):
        await engine.reroll(turn_id, 99)
    forced = await engine.reroll(turn_id, 99, is_moderator=True)
    assert forced.rerolled and forced.votes is None


async def test_undo_is_for_the_owner_or_a_moderator(engine: StoryEngine) -> None:
    await start_story(engine)
    await engine.write(CHANNEL, BEN, "Ben", "First.")
    second = await engine.write(CHANNEL, BEN, "Ben", "Second.")
    with pytest.raises(PermissionDenied, match="undo"):
        await engine.undo(CHANNEL, BEN)
    undone = await engine.undo(CHANNEL, ANN)
    assert [t.id for t in undone.removed] == [second.turn.id]
    await engine.undo(CHANNEL, CAT, is_moderator=True)
    assert (await engine.show(channel_id=CHANNEL)).total == 0
    with pytest.raises(InvalidInput, match="nothing to undo"):
        await engine.undo(CHANNEL, ANN)


async def test_undo_removes_a_pending_turn_with_its_alternatives(engine: StoryEngine) -> None:
    await start_story(engine)
    await engine.write(CHANNEL, ANN, "Ann", "Kept.")
    first = await engine.ai_turn(CHANNEL, ANN)
    await engine.reroll(first.turn.id, ANN)
    undone = await engine.undo(CHANNEL, ANN)
    assert len(undone.removed) == 2 and await engine.pending(CHANNEL) is None
    assert [t.text for t in (await engine.show(channel_id=CHANNEL)).turns] == ["Kept."]


async def test_undo_gives_the_round_robin_turn_back(engine: StoryEngine) -> None:
    await start_story(engine, mode="round_robin")
    await engine.join(CHANNEL, BEN, "Ben")
    await engine.write(CHANNEL, ANN, "Ann", "Ann's turn.")
    undone = await engine.undo(CHANNEL, ANN)
    assert undone.story.current_writer.name == "Ann"


async def test_two_concurrent_generations_make_one_turn(
    storage, moderator, clock: FakeClock
) -> None:
    slow = FakeGenerator(delay=0.2)
    engine = StoryEngine(storage, slow, moderator, EngineOptions(), clock=clock)
    await start_story(engine)
    results = await asyncio.gather(
        engine.ai_turn(CHANNEL, ANN),
        engine.ai_turn(CHANNEL, BEN),
        return_exceptions=True,
    )
    made = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, BaseException)]
    assert len(made) == 1 and len(refused) == 1
    assert isinstance(refused[0], TurnInProgress)
    assert "already being written" in str(refused[0])
    assert len(slow.requests) == 1
    assert (await engine.pending(CHANNEL)).id == made[0].turn.id
    rerolls = await asyncio.gather(
        engine.reroll(made[0].turn.id, ANN),
        engine.reroll(made[0].turn.id, ANN),
        return_exceptions=True,
    )
    assert sorted(type(r).__name__ for r in rerolls) == ["RerollResult", "TurnInProgress"]
    assert (await engine.pending(CHANNEL)).alt_count == 2
