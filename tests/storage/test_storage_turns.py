"""Turns: slots and alternatives, accepting, undo, hiding, reading the story back."""

from __future__ import annotations

import pytest
from storage_testing import FakeClock, model_turn, user_turn

from storage.errors import NotFound
from storage.models import ContextTurn, Story, StorySettings, TurnDraft
from storage.repositories import Storage


async def test_user_turns_are_accepted_and_model_turns_pending(
    storage: Storage, story: Story, clock: FakeClock
) -> None:
    written = await storage.turns.add(story.id, user_turn("Rain fell.", character_name="Ann"))
    asked = await storage.turns.add(
        story.id,
        model_turn(
            "Thunder answered.",
            kind="twist",
            params={"temperature": 0.8, "seed": 7},
            score=-1.25,
            moderation={"verdict": "allow", "categories": []},
        ),
    )
    assert (written.slot, written.alt_index, written.state) == (0, 0, "accepted")
    assert written.accepted_by == 30 and written.character_name == "Ann"
    assert (asked.slot, asked.state, asked.accepted_by) == (1, "pending", None)
    assert asked.params == {"temperature": 0.8, "seed": 7}
    assert asked.moderation == {"verdict": "allow", "categories": []}
    assert (asked.kind, asked.score, asked.model_id) == ("twist", -1.25, "lstm-v1")
    assert asked.created_at == clock.now and not asked.hidden
    assert await storage.turns.get(asked.id) == asked
    assert await storage.turns.get(9999) is None


async def test_add_checks_kinds_and_story(storage: Storage, story: Story) -> None:
    with pytest.raises(ValueError, match="kind"):
        await storage.turns.add(story.id, user_turn("x", kind="monologue"))
    with pytest.raises(ValueError, match="author_kind"):
        await storage.turns.add(story.id, TurnDraft(author_kind="bot", text="x"))  # type: ignore[arg-type]
    with pytest.raises(NotFound):
        await storage.turns.add(story.id + 100, user_turn("orphan"))
    assert await storage.turns.next_slot(story.id) == 0


async def test_accepting_an_alternative_discards_its_siblings(
    storage: Storage, story: Story
) -> None:
    await storage.turns.add(story.id, user_turn("Opening."))
    first = await storage.turns.add(story.id, model_turn("Draft A"))
    second = await storage.turns.add_alternative(story.id, first.slot, model_turn("Draft B"))
    third = await storage.turns.add_alternative(story.id, first.slot, model_turn("Draft C"))
    assert (second.alt_index, third.alt_index) == (1, 2)
    assert [t.id for t in await storage.turns.pending_for_story(story.id)] == [
        first.id,
        second.id,
        third.id,
    ]

    kept = await storage.turns.accept(second.id, by=31)
    assert kept.state == "accepted" and kept.accepted_by == 31
    states = {t.id: t.state for t in await storage.turns.list_alternatives(story.id, first.slot)}
    assert states == {first.id: "discarded", second.id: "accepted", third.id: "discarded"}
    assert await storage.turns.pending_for_story(story.id) == []
    assert [t.text for t in await storage.turns.recent_accepted(story.id)] == [
        "Opening.",
        "Draft B",
    ]


async def test_accepting_a_swipe_replaces_the_accepted_turn(storage: Storage, story: Story) -> None:
    first = await storage.turns.add(story.id, model_turn("Draft A"))
    await storage.turns.accept(first.id, by=30)
    again = await storage.turns.accept(first.id, by=99)
    assert again.accepted_by == 30
    swipe = await storage.turns.add_alternative(story.id, first.slot, model_turn("Draft B"))
    await storage.turns.accept(swipe.id, by=30)
    assert (await storage.turns.get(first.id)).state == "discarded"  # type: ignore[union-attr]
    assert await storage.turns.count_accepted(story.id) == 1


async def test_alternative_needs_an_existing_slot(storage: Storage, story: Story) -> None:
    with pytest.raises(NotFound, match="position 3"):
        await storage.turns.add_alternative(story.id, 3, model_turn("Nothing to reroll"))


async def test_accept_and_discard_missing_turns(storage: Storage) -> None:
    with pytest.raises(NotFound):
        await storage.turns.accept(1234, by=1)
    with pytest.raises(NotFound):
        await storage.turns.discard(1234)
    with pytest.raises(NotFound):
        await storage.turns.set_hidden(1234)


async def test_discard(storage: Storage, story: Story) -> None:
    pending = await storage.turns.add(story.id, model_turn("Meh."))
    assert (await storage.turns.discard(pending.id)).state == "discarded"
    assert await storage.turns.pending_for_story(story.id) == []
    assert await storage.turns.next_slot(story.id) == 1


async def test_recent_accepted_is_newest_n_in_story_order_without_hidden(
    storage: Storage, story: Story
) -> None:
    turns = [await storage.turns.add(story.id, user_turn(f"line {i}")) for i in range(8)]
    await storage.turns.add(story.id, model_turn("pending, not shown"))
    await storage.turns.set_hidden(turns[6].id)

    recent = await storage.turns.recent_accepted(story.id, limit=3)
    assert [t.text for t in recent] == ["line 4", "line 5", "line 7"]
    other = await storage.stories.create(
        guild_id=10,
        channel_id=21,
        owner_id=30,
        settings=StorySettings(title="Other", genre="mystery"),
    )
    assert await storage.turns.recent_accepted(other.id) == []
    context = await storage.turns.recent_context(story.id, limit=3)
    assert context == [ContextTurn.of(turn) for turn in recent]
    assert await storage.turns.recent_context(other.id) == []


async def test_page_and_count(storage: Storage, story: Story) -> None:
    turns = [await storage.turns.add(story.id, user_turn(f"line {i}")) for i in range(5)]
    await storage.turns.set_hidden(turns[1].id)

    assert [t.text for t in await storage.turns.page(story.id, 0, 2)] == ["line 0", "line 2"]
    assert [t.text for t in await storage.turns.page(story.id, 2, 10)] == ["line 3", "line 4"]
    everything = await storage.turns.page(story.id, 0, 10, include_hidden=True)
    assert len(everything) == 5 and everything[1].hidden
    assert await storage.turns.count_accepted(story.id) == 4
    assert await storage.turns.count_accepted(story.id, include_hidden=True) == 5

    shown = await storage.turns.set_hidden(turns[1].id, hidden=False)
    assert not shown.hidden and await storage.turns.count_accepted(story.id) == 5


async def test_undo_last_discards_the_last_visible_accepted_turn(
    storage: Storage, story: Story
) -> None:
    assert await storage.turns.undo_last(story.id) is None
    first = await storage.turns.add(story.id, user_turn("one"))
    second = await storage.turns.add(story.id, user_turn("two"))
    await storage.turns.add(story.id, model_turn("pending three"))

    undone = await storage.turns.undo_last(story.id)
    assert undone is not None and undone.id == second.id and undone.state == "discarded"
    assert [t.id for t in await storage.turns.recent_accepted(story.id)] == [first.id]
    assert len(await storage.turns.pending_for_story(story.id)) == 1
    assert await storage.turns.next_slot(story.id) == 3

    again = await storage.turns.undo_last(story.id)
    assert again is not None and again.id == first.id
    assert await storage.turns.undo_last(story.id) is None
