"""Which message shows which turn, so the bot can update a turn's message when the story moves
past it (buttons off once it is kept) or a turn is undone (message removed).

Kept in memory and bounded: after a restart old messages keep their buttons, which still work
(they are persistent) and answer that the turn was already settled.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import NamedTuple

MAX_ENTRIES = 20_000


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
