"""Reactions as a signal in storage: the message that shows a turn (a rerolled message moves to
the new turn), the guild's emoji, up/down counts per user and turn, taking one back, the rows
for training, and a user's deletion taking their reactions with it."""

from __future__ import annotations

import pytest
from storage_testing import model_turn, user_turn

from storage.models import ReactionCount, ReactionEmoji, Story
from storage.repositories import Storage

GUILD = 10


async def test_a_message_shows_the_turn_it_was_last_given(storage: Storage, story: Story) -> None:
    first = await storage.turns.add(story.id, model_turn("A bell rings."))
    second = await storage.turns.add(story.id, model_turn("A gull cries."))
    assert await storage.reactions.turn_for(500) is None
    await storage.reactions.show_turn(500, 20, first.id)
    assert await storage.reactions.turn_for(500) == first.id
    await storage.reactions.show_turn(500, 20, second.id)
    assert await storage.reactions.turn_for(500) == second.id


async def test_guild_emoji_default_and_change(storage: Storage) -> None:
    assert await storage.reactions.emoji(GUILD) == ReactionEmoji("👍", "👎")
    await storage.reactions.set_emoji(GUILD, ReactionEmoji("⭐", "💤"))
    assert await storage.reactions.emoji(GUILD) == ReactionEmoji("⭐", "💤")
    assert await storage.reactions.emoji(GUILD + 1) == ReactionEmoji()
    with pytest.raises(ValueError, match="two different"):
        await storage.reactions.set_emoji(GUILD, ReactionEmoji("⭐", "⭐"))


async def test_counts_are_per_user_and_a_removal_lowers_them(
    storage: Storage, story: Story
) -> None:
    turn = await storage.turns.add(story.id, user_turn("The door hums."))
    other = await storage.turns.add(story.id, user_turn("Marta waits."))
    assert await storage.feedback.add(turn.id, 1, "up")
    assert not await storage.feedback.add(turn.id, 1, "up")
    assert await storage.feedback.add(turn.id, 2, "up")
    assert await storage.feedback.add(turn.id, 3, "down")
    await storage.feedback.add(turn.id, 1, "keep")
    assert await storage.reactions.counts([turn.id, other.id]) == {
        turn.id: ReactionCount(up=2, down=1)
    }
    assert await storage.feedback.remove(turn.id, 2, "up")
    assert not await storage.feedback.remove(turn.id, 2, "up")
    assert await storage.reactions.counts([turn.id]) == {turn.id: ReactionCount(1, 1)}
    assert await storage.reactions.counts([]) == {}


async def test_examples_hold_the_story_before_the_turn(storage: Storage, story: Story) -> None:
    texts = ["One.", "Two.", "Three.", "Four."]
    turns = [await storage.turns.add(story.id, user_turn(text)) for text in texts]
    await storage.feedback.add(turns[3].id, 1, "up")
    await storage.feedback.add(turns[3].id, 2, "down")
    await storage.feedback.add(turns[1].id, 1, "down")
    await storage.feedback.add(turns[2].id, 1, "keep")
    examples = await storage.reactions.examples(context_turns=2)
    assert [(e.turn_id, e.context, e.text, e.up, e.down) for e in examples] == [
        (turns[1].id, ["One."], "Two.", 0, 1),
        (turns[3].id, ["Two.", "Three."], "Four.", 1, 1),
    ]
    assert examples[0].genre == "mystery" and examples[0].state == "accepted"
    with pytest.raises(ValueError):
        await storage.reactions.examples(context_turns=-1)


async def test_deleting_a_user_removes_their_reactions(storage: Storage, story: Story) -> None:
    turn = await storage.turns.add(story.id, user_turn("The door hums."))
    await storage.feedback.add(turn.id, 1, "up")
    await storage.feedback.add(turn.id, 2, "down")
    await storage.delete_user(1)
    assert await storage.reactions.counts([turn.id]) == {turn.id: ReactionCount(0, 1)}


async def test_an_undone_turn_is_exported_as_discarded(storage: Storage, story: Story) -> None:
    turn = await storage.turns.add(story.id, user_turn("The door hums."))
    await storage.feedback.add(turn.id, 1, "down")
    await storage.turns.undo_last(story.id)
    [example] = await storage.reactions.examples(context_turns=5)
    assert (example.turn_id, example.state, example.down) == (turn.id, "discarded", 1)
