"""Reactions on turn messages, the Discord side: a TurnBoard that also knows which turn each
message shows (and stores it, so a 👍 on an old message still finds its turn after a restart),
and the handler for reactions added and removed.

The bot's own reactions are dropped here; the engine ignores other emoji and other messages.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from typing import TYPE_CHECKING

import discord

from bot.board import MAX_ENTRIES, Shown, TurnBoard

if TYPE_CHECKING:
    from bot.client import StoryBot
    from bot.story import StoryEngine

log = logging.getLogger("talewright.discord")


class RecordedBoard(TurnBoard):
    """The turn board, plus which turn each message shows, in memory and in storage.

    `remember` stays synchronous for its callers: the stored copy is written in the background
    and the in-memory one answers until it is, so a reaction right after a post finds its turn.
    """

    def __init__(self, engine: StoryEngine, max_entries: int = MAX_ENTRIES) -> None:
        super().__init__(max_entries)
        self._engine = engine
        self._turn_at: OrderedDict[int, int] = OrderedDict()
        self._max_messages = max_entries
        self._writes: set[asyncio.Task[None]] = set()

    def remember(self, turn_id: int, channel_id: int, message_id: int) -> None:
        super().remember(turn_id, channel_id, message_id)
        self._turn_at[message_id] = turn_id
        self._turn_at.move_to_end(message_id)
        while len(self._turn_at) > self._max_messages:
            self._turn_at.popitem(last=False)
        task = asyncio.get_running_loop().create_task(self._store(turn_id, channel_id, message_id))
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)

    def forget(self, turn_id: int) -> Shown | None:
        shown = super().forget(turn_id)
        if shown is not None and self._turn_at.get(shown.message_id) == turn_id:
            del self._turn_at[shown.message_id]
        return shown

    def turn_at(self, message_id: int) -> int | None:
        """The turn the message shows, when this run posted or updated it."""
        return self._turn_at.get(message_id)

    async def _store(self, turn_id: int, channel_id: int, message_id: int) -> None:
        try:
            await self._engine.remember_turn_message(turn_id, channel_id, message_id)
        except Exception:
            log.exception("could not store that message %s shows turn %s", message_id, turn_id)


async def on_reaction(
    bot: StoryBot, payload: discord.RawReactionActionEvent, *, added: bool
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
