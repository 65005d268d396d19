"""Reactions as a signal in the engine: the guild's up/down emoji on a turn's message count per
user and turn, a removal takes one back, other emoji and messages that show no turn are ignored,
/story show carries the counts, and only a moderator changes the emoji."""

from __future__ import annotations

import pytest
from engine_testing import ANN, BEN, CAT, CHANNEL, GUILD, start_story

from bot.console.render import Renderer
from bot.discord.render import story_page
from bot.errors import InvalidInput, PermissionDenied
from bot.story import StoryEngine
from storage.models import ReactionCount, ReactionEmoji

MESSAGE = 9000


async def _shown_turn(engine: StoryEngine) -> int:
    await start_story(engine)
    turn = (await engine.write(CHANNEL, ANN, "Ann", "The door hums at low tide.")).turn.id
    await engine.remember_turn_message(turn, CHANNEL, MESSAGE)
    return turn


async def _react(engine: StoryEngine, user: int, emoji: str, added: bool = True):
    return await engine.react(
        guild_id=GUILD, message_id=MESSAGE, user_id=user, emoji=emoji, added=added
    )


async def test_up_and_down_are_counted_per_user_and_shown(engine: StoryEngine) -> None:
    turn = await _shown_turn(engine)
    assert (await _react(engine, BEN, "👍")).changed
    assert not (await _react(engine, BEN, "👍")).changed
    await _react(engine, CAT, "👍")
    change = await _react(engine, ANN, "👎")
    assert (change.turn_id, change.kind) == (turn, "down")
    assert await engine.reaction_counts([turn]) == {turn: ReactionCount(2, 1)}

    page = await engine.show(channel_id=CHANNEL)
    assert page.reactions == {turn: ReactionCount(2, 1)}
    assert "👍 2 · 👎 1" in story_page(page).description
    assert any("👍 2 · 👎 1" in line for line in Renderer(80).render(page))

    await _react(engine, CAT, "👍", added=False)
    assert await engine.reaction_counts([turn]) == {turn: ReactionCount(1, 1)}


async def test_other_emoji_and_other_messages_are_ignored(engine: StoryEngine) -> None:
    turn = await _shown_turn(engine)
    assert await _react(engine, BEN, "🎉") is None
    assert (
        await engine.react(
            guild_id=GUILD, message_id=MESSAGE + 1, user_id=BEN, emoji="👍", added=True
        )
        is None
    )
    assert await engine.reaction_counts([turn]) == {}
    page = await engine.show(channel_id=CHANNEL)
    assert "👍" not in story_page(page).description


async def test_the_guild_chooses_its_emoji(engine: StoryEngine) -> None:
    turn = await _shown_turn(engine)
    with pytest.raises(PermissionDenied):
        await engine.reaction_emoji_set(GUILD, is_moderator=False, up="⭐")
    with pytest.raises(InvalidInput, match="two different"):
        await engine.reaction_emoji_set(GUILD, is_moderator=True, up="👎")
    with pytest.raises(InvalidInput, match="one emoji"):
        await engine.reaction_emoji_set(GUILD, is_moderator=True, up="two words")
    chosen = await engine.reaction_emoji_set(GUILD, is_moderator=True, up="⭐")
    assert chosen == ReactionEmoji("⭐", "👎")
    assert await _react(engine, BEN, "👍") is None
    assert (await _react(engine, BEN, "⭐")).kind == "up"
    page = await engine.show(channel_id=CHANNEL)
    assert "⭐ 1 · 👎 0" in story_page(page).description
    assert page.reactions == {turn: ReactionCount(1, 0)}


async def test_deleting_ones_data_removes_ones_reactions(engine: StoryEngine) -> None:
    turn = await _shown_turn(engine)
    await _react(engine, BEN, "👍")
    await _react(engine, CAT, "👎")
    await engine.storage.delete_user(BEN)
    assert await engine.reaction_counts([turn]) == {turn: ReactionCount(0, 1)}
