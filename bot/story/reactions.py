"""Reactions as a signal: the guild's up/down emoji on a turn's message, stored per user and
turn (a removal takes it back), counted in `/story show` and exported for training.

The front end says which message shows which turn (`remember_turn_message`) and hands over each
reaction as it comes; reactions of the bot itself are the front end's to drop. Other emoji and
messages that show no turn are ignored, so nothing is stored for them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.errors import InvalidInput, PermissionDenied
from bot.story.core import EngineCore
from bot.story.failures import user_errors
from bot.story.results import StoryPage
from storage.models import FeedbackKind, ReactionCount, ReactionEmoji

MAX_EMOJI_CHARS = 64
"""A custom emoji reads `<:name:id>` (a 2-32 character name and a snowflake); unicode ones are
a few characters."""


@dataclass(frozen=True, slots=True)
class ReactionChange:
    """A reaction that counted: the turn, up or down, and whether it changed what was stored
    (False for a repeat, or taking back one that was never stored)."""

    turn_id: int
    kind: FeedbackKind
    changed: bool


class Reactions(EngineCore):
    @user_errors
    async def reaction_emoji(self, guild_id: int) -> ReactionEmoji:
        return await self.storage.reactions.emoji(guild_id)

    @user_errors
    async def reaction_emoji_set(
        self,
        guild_id: int,
        *,
        is_moderator: bool,
        up: str | None = None,
        down: str | None = None,
    ) -> ReactionEmoji:
        """Change the emoji the guild counts as up and down (a moderator's choice)."""
        if not is_moderator:
            raise PermissionDenied("Only moderators can do that.")
        current = await self.storage.reactions.emoji(guild_id)
        wanted = ReactionEmoji(
            up=current.up if up is None else _emoji(up, "up"),
            down=current.down if down is None else _emoji(down, "down"),
        )
        if wanted.up == wanted.down:
            raise InvalidInput(f"Up and down need two different emoji, not {wanted.up} twice.")
        return await self.storage.reactions.set_emoji(guild_id, wanted)

    @user_errors
    async def remember_turn_message(self, turn_id: int, channel_id: int, message_id: int) -> None:
        await self.storage.reactions.show_turn(message_id, channel_id, turn_id)

    @user_errors
    async def react(
        self,
        *,
        guild_id: int,
        message_id: int,
        user_id: int,
        emoji: str,
        added: bool,
        turn_id: int | None = None,
    ) -> ReactionChange | None:
        """Store (or, when not `added`, take back) the user's up or down on the turn the message
        shows (`turn_id` when the front end knows it); None when the emoji is not the guild's
        up or down or the message shows no turn."""
        choice = await self.storage.reactions.emoji(guild_id)
        kinds: dict[str, FeedbackKind] = {choice.up: "up", choice.down: "down"}
        kind = kinds.get(emoji)
        if kind is None:
            return None
        if turn_id is None:
            turn_id = await self.storage.reactions.turn_for(message_id)
        if turn_id is None or await self.storage.turns.get(turn_id) is None:
            return None
        if added:
            changed = await self.storage.feedback.add(turn_id, user_id, kind)
        else:
            changed = await self.storage.feedback.remove(turn_id, user_id, kind)
        return ReactionChange(turn_id, kind, changed)

    @user_errors
    async def reaction_counts(self, turn_ids: Sequence[int]) -> dict[int, ReactionCount]:
        return await self.storage.reactions.counts(turn_ids)


def _emoji(text: str, which: str) -> str:
    """One emoji as Discord names it: no spaces, not empty, not overlong."""
    emoji = text.strip()
    if not emoji or len(emoji) > MAX_EMOJI_CHARS or any(c.isspace() for c in emoji):
        raise InvalidInput(f"The {which} reaction must be one emoji, like 👍 or a server emoji.")
    return emoji


def reaction_note(page: StoryPage, turn_id: int) -> str | None:
    """The counts under a turn in `/story show` ("👍 2 · 👎 1"); None when nobody reacted."""
    count = page.reactions.get(turn_id)
    if count is None or not (count.up or count.down):
        return None
    emoji = page.reaction_emoji
    return f"{emoji.up} {count.up} · {emoji.down} {count.down}"
