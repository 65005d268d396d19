"""A model turn shown while it is written: the growing text, passed through the guild's
moderation, handed to whoever shows it (a Discord placeholder, the terminal) no more often
than they can take it. Only generators that can stream call it (generators.client
StreamingGenerator); the finished turn replaces whatever was shown."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.story.guard import Checked

OnText = Callable[[str], Awaitable[None]]
DISCORD_EDIT_EVERY_S = 1.5
"""Editing one message more often runs into Discord's rate limits."""


@dataclass(frozen=True, slots=True)
class LiveTurn:
    """Where a turn in progress is shown (`show(text so far)`), and how often at most."""

    show: OnText
    every_s: float = DISCORD_EDIT_EVERY_S


class ShownText:
    """The growing text of one request, forwarded to `live.show`: the first piece at once, then
    at most once every `live.every_s`, each one moderated first. Once a piece is blocked,
    nothing more is shown (the finished turn, moderated as always, replaces it)."""

    def __init__(
        self,
        live: LiveTurn,
        check: Callable[[str], Checked],
        clock: Callable[[], float] = time.monotonic,
    ):
        self.live = live
        self.check = check
        self.clock = clock
        self.last: float | None = None
        self.stopped = False

    async def __call__(self, text: str) -> None:
        if self.stopped or not text.strip():
            return
        now = self.clock()
        if self.last is not None and now - self.last < self.live.every_s:
            return
        checked = self.check(text)
        if checked.blocked:
            self.stopped = True
            return
        self.last = now
        await self.live.show(checked.text)
