"""Which message shows which turn, so the bot can update a turn's message when the story moves
past it (buttons off once it is kept) or a turn is undone (message removed).

Kept in memory and bounded: after a restart old messages keep their buttons, which still work
(they are persistent) and answer that the turn was already settled. `RecordedBoard` also knows
which turn each message shows, and stores it, so a 👍 on an old message still finds its turn
after a restart.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from bot.story import StoryEngine

MAX_ENTRIES = 20_000

log = logging.getLogger("talewright.discord")


class Shown(NamedTuple):
    channel_id: int
    message_id: int


class TurnBoard:
    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._shown: OrderedDict[int, Shown] = OrderedDict()
        self._max = max_entries

    def remember(self, turn_id: int, channel_id: int, message_id: int) -> None:
        self._shown[turn_id] = Shown(channel_id, message_id)
        self._shown.move_to_end(turn_id)
        while len(self._shown) > self._max:
            self._shown.popitem(last=False)

    def where(self, turn_id: int) -> Shown | None:
        return self._shown.get(turn_id)

    def forget(self, turn_id: int) -> Shown | None:
        return self._shown.pop(turn_id, None)


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
