"""Editing a kept turn: by its author, the owner or a moderator; moderated like a write; the
turns after it stay; the earlier text is its history in /story show; the export and the model's
context read the latest text; someone else's turn is refused with the reason."""

from __future__ import annotations

import pytest
from engine_testing import ANN, BEN, CAT, CHANNEL, GUILD, start_story

from bot.errors import InvalidInput, ModerationBlocked, PermissionDenied, UnknownTurn
from bot.story import StoryEngine
from bot.story.notes import turn_notes


async def _three_turns(engine: StoryEngine) -> list[int]:
    await start_story(engine)
    await engine.join(CHANNEL, BEN, "Ben")
    ids = []
    for user, name, text in (
        (BEN, "Ben", "The door hums at low tide."),
        (ANN, "Ann", "Marta lifts the lantern."),
        (BEN, "Ben", "Something answers from below."),
    ):
        ids.append((await engine.write(CHANNEL, user, name, text)).turn.id)
    return ids


async def test_the_author_edits_and_the_history_keeps_the_old_text(engine: StoryEngine) -> None:
    first, _, _ = await _three_turns(engine)
    edited = await engine.edit_turn(
        first, BEN, "The old door hums at low tide.", user_name="Ben", guild_id=GUILD
    )
    assert edited.previous == "The door hums at low tide."
    assert edited.turn.text == "The old door hums at low tide." and edited.turn.edited

    page = await engine.show(channel_id=CHANNEL)
    assert [t.text for t in page.turns] == [
        "The old door hums at low tide.",
        "Marta lifts the lantern.",
        "Something answers from below.",
    ]
    [shown] = [t for t in page.turns if t.id == first]
    assert [(h.previous_text, h.editor_name) for h in shown.history] == [
        ("The door hums at low tide.", "Ben")
    ]
    assert turn_notes(shown) == [
        "(edited once)",
        "version 1, before Ben's edit: The door hums at low tide.",
    ]
    assert not [t for t in page.turns if t.id != first and t.history]

    exported = await engine.export(channel_id=CHANNEL)
    assert "The old door hums at low tide." in exported.markdown
    assert "The door hums at low tide." not in exported.markdown.replace("old door", "")
    context = await engine.storage.turns.recent_context(page.story.id, 10)
    assert context[0].text == "The old door hums at low tide."


async def test_the_owner_and_a_moderator_may_edit_anyones_turn(engine: StoryEngine) -> None:
    first, _, _ = await _three_turns(engine)
    await engine.edit_turn(first, ANN, "Owner's mend.")
    await engine.edit_turn(first, CAT, "Moderator's mend.", is_moderator=True)
    page = await engine.show(channel_id=CHANNEL)
    assert [h.previous_text for h in page.turns[0].history] == [
        "The door hums at low tide.",
        "Owner's mend.",
    ]


async def test_someone_elses_turn_is_refused_and_nothing_changes(engine: StoryEngine) -> None:
    _, second, _ = await _three_turns(engine)
    await engine.join(CHANNEL, CAT, "Cat")
    for attempt in (
        engine.edit_turn(second, BEN, "Ben rewrites Ann."),
        engine.editable_turn(second, CAT),
    ):
        with pytest.raises(PermissionDenied, match=f"Turn #{second} is someone else's"):
            await attempt
    page = await engine.show(channel_id=CHANNEL)
    assert page.turns[1].text == "Marta lifts the lantern." and not page.turns[1].history


async def test_an_edit_is_moderated_like_a_write(engine: StoryEngine) -> None:
    first, _, _ = await _three_turns(engine)
    with pytest.raises(ModerationBlocked):
        await engine.edit_turn(first, BEN, "hates every faggot")
    page = await engine.show(channel_id=CHANNEL)
    assert page.turns[0].text == "The door hums at low tide." and not page.turns[0].history


async def test_bad_edits_are_refused_clearly(engine: StoryEngine) -> None:
    first, _, _ = await _three_turns(engine)
    with pytest.raises(InvalidInput, match="already reads so"):
        await engine.edit_turn(first, BEN, "The door hums at low tide.")
    with pytest.raises(UnknownTurn):
        await engine.edit_turn(first, BEN, "Elsewhere.", guild_id=GUILD + 1)
    with pytest.raises(InvalidInput, match="belongs to another story"):
        await engine.edit_turn(first, BEN, "Elsewhere.", place_id=CHANNEL + 1)
    with pytest.raises(UnknownTurn):
        await engine.edit_turn(9999, BEN, "Nothing.")
    asked = await engine.ai_turn(CHANNEL, BEN, "continue")
    with pytest.raises(InvalidInput, match="not kept"):
        await engine.edit_turn(asked.turn.id, ANN, "Mended before keeping.")
