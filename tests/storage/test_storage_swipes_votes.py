"""Migration 2: which alternative was shown last, discarding pending turns, and votes that must
be recent to count."""

from __future__ import annotations

from storage_testing import FakeClock, model_turn, user_turn

from storage.models import Story
from storage.repositories import Storage


async def test_each_new_alternative_is_shown_last(storage: Storage, story: Story) -> None:
    first = await storage.turns.add(story.id, model_turn("one"))
    second = await storage.turns.add_alternative(story.id, first.slot, model_turn("two"))
    third = await storage.turns.add_alternative(story.id, first.slot, model_turn("three"))
    assert [first.shown_seq, second.shown_seq, third.shown_seq] == [1, 2, 3]
    other_slot = await storage.turns.add(story.id, user_turn("next"))
    assert other_slot.shown_seq == 1


async def test_mark_shown_makes_an_alternative_the_latest(storage: Storage, story: Story) -> None:
    first = await storage.turns.add(story.id, model_turn("one"))
    await storage.turns.add_alternative(story.id, first.slot, model_turn("two"))
    shown = await storage.turns.mark_shown(first.id)
    assert shown.shown_seq == 3 and shown.id == first.id
    alternatives = await storage.turns.list_alternatives(story.id, first.slot)
    latest = max(alternatives, key=lambda turn: turn.shown_seq)
    assert latest.text == "one"


async def test_discard_pending_leaves_accepted_turns(storage: Storage, story: Story) -> None:
    kept = await storage.turns.add(story.id, user_turn("kept"))
    first = await storage.turns.add(story.id, model_turn("maybe"))
    second = await storage.turns.add_alternative(story.id, first.slot, model_turn("or this"))
    discarded = await storage.turns.discard_pending(story.id)
    assert [(t.id, t.state) for t in discarded] == [
        (first.id, "discarded"),
        (second.id, "discarded"),
    ]
    assert await storage.turns.pending_for_story(story.id) == []
    assert [t.id for t in await storage.turns.recent_accepted(story.id)] == [kept.id]
    assert await storage.turns.discard_pending(story.id) == []


async def test_votes_since_and_renew(storage: Storage, story: Story, clock: FakeClock) -> None:
    turn = await storage.turns.add(story.id, model_turn("vote on me"))
    assert await storage.feedback.renew(turn.id, 1, "reroll_vote")
    clock.advance(100)
    assert await storage.feedback.renew(turn.id, 2, "reroll_vote")
    assert await storage.feedback.voters(turn.id, "reroll_vote") == [1, 2]
    assert await storage.feedback.voters(turn.id, "reroll_vote", since=clock.now - 10) == [2]
    assert not await storage.feedback.renew(turn.id, 1, "reroll_vote")
    assert await storage.feedback.voters(turn.id, "reroll_vote", since=clock.now - 10) == [1, 2]
    assert await storage.feedback.count(turn.id, "reroll_vote") == 2
