"""Showing what changed a story outside the turn's own answer (bot/discord/buttons.py shows a
turn with its buttons): the turn as the model writes it, posts outside any interaction, and
keeping older messages honest (buttons off once the story moved past a turn, messages of undone
turns removed)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

import discord

from bot.discord.render import Out, no_mentions, turn_embed, writing_text
from bot.story.live_text import LiveTurn
from bot.story.results import TurnView

if TYPE_CHECKING:
    from bot.discord.story_client import StoryClient

log = logging.getLogger("talewright.discord")


def live_placeholder(interaction: discord.Interaction) -> LiveTurn:
    """Show a model turn in the "thinking" placeholder while it is written (the engine hands
    it moderated text, at most every 1.5 s). A failed edit only loses that glimpse; the
    answer, or the failure's message, replaces the placeholder as it always does."""

    async def show(text: str) -> None:
        try:
            await interaction.edit_original_response(
                content=writing_text(text), allowed_mentions=no_mentions()
            )
        except discord.HTTPException as exc:
            log.info("could not show the turn in progress: %s", exc)

    return LiveTurn(show)


async def post(bot: StoryClient, channel_id: int, outs: Sequence[Out]) -> list[discord.Message]:
    """Send `outs` to a channel or thread outside any interaction (timers, plain messages)."""
    channel = bot.get_partial_messageable(channel_id)
    return [await channel.send(**out.send_kwargs()) for out in outs]


async def settle(bot: StoryClient, kept: TurnView | None) -> None:
    """Show a turn the story moved past as kept, without its buttons."""
    if kept is None:
        return
    shown = bot.board.where(kept.id)
    if shown is None:
        return
    message = bot.get_partial_messageable(shown.channel_id).get_partial_message(shown.message_id)
    try:
        await message.edit(embeds=[turn_embed(kept)], view=None)
    except discord.HTTPException as exc:
        log.info("could not update the message of turn %s: %s", kept.id, exc)


async def remove_shown(bot: StoryClient, removed: Sequence[TurnView]) -> None:
    """Delete the messages of undone turns, so the channel reads as the story does."""
    messages = {shown for turn in removed if (shown := bot.board.forget(turn.id)) is not None}
    for shown in messages:
        partial = bot.get_partial_messageable(shown.channel_id)
        try:
            await partial.get_partial_message(shown.message_id).delete()
        except discord.HTTPException as exc:
            log.info("could not delete message %s of an undone turn: %s", shown.message_id, exc)
