"""Reactions on turn messages, the Discord side: the handler for reactions added and removed
(the board in bot/discord/board.py finds the turn a message shows).

The bot's own reactions are dropped here; the engine ignores other emoji and other messages.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord

if TYPE_CHECKING:
    from bot.discord.story_client import StoryClient

log = logging.getLogger("talewright.discord")


async def on_reaction(
    bot: StoryClient, payload: discord.RawReactionActionEvent, *, added: bool
) -> None:
    """Count (or take back) a reaction on a turn's message; never raises into discord.py."""
    if payload.guild_id is None or bot.user is None or payload.user_id == bot.user.id:
        return
    try:
        await bot.engine.react(
            guild_id=payload.guild_id,
            message_id=payload.message_id,
            user_id=payload.user_id,
            emoji=str(payload.emoji),
            added=added,
            turn_id=bot.board.turn_at(payload.message_id),
        )
    except Exception:
        log.exception("could not record a reaction on message %s", payload.message_id)
