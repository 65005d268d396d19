"""Edits of turns: the latest text is the turn's, each earlier one is kept in its history."""

from __future__ import annotations

import pytest
from storage_testing import FakeClock, user_turn

from storage.errors import NotFound
from storage.models import Story
from storage.repositories import Storage


async def test_an_edit_keeps_the_earlier_text_in_order(
    storage: Storage, story: Story, clock: FakeClock
) -> None:
    turn = await storage.turns.add(story.id, user_turn("The door hums."))
    later = await storage.turns.add(story.id, user_turn("Then the tide."))
    await storage.edits.edit(turn.id, 30, "The door hums softly.")
    edited = await storage.edits.edit(turn.id, 31, "The old door hums softly.")

    assert edited.text == "The old door hums softly."
    assert (await storage.turns.get(later.id)).text == "Then the tide."
    history = await storage.edits.history([turn.id, later.id])
    assert list(history) == [turn.id]
    assert [(e.editor_id, e.previous_text) for e in history[turn.id]] == [
        (30, "The door hums."),
        (31, "The door hums softly."),
    ]
    assert [t.text for t in await storage.turns.page(story.id)] == [
        "The old door hums softly.",
        "Then the tide.",
    ]


async def test_editing_a_missing_turn_changes_nothing(storage: Storage) -> None:
    with pytest.raises(NotFound):
        await storage.edits.edit(999, 30, "Nothing here.")
    assert await storage.edits.history([999]) == {}
