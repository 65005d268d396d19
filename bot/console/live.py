"""A model turn typed out in the terminal while it is written.

Only generators that can stream show anything (the engine calls `show` with the moderated text
so far). The pieces go on a line of their own marked "writing…"; the finished turn is then
printed as usual below it, so the transcript reads as the glimpse followed by the turn.
"""

from __future__ import annotations

from typing import TextIO

from bot.story.live_text import LiveTurn

WRITING = "writing… "
"""Marks the line a turn is typed out on, so it is not mistaken for the turn itself."""
TERMINAL_EVERY_S = 0.0
"""A terminal has no rate limit: every piece is shown as it arrives."""


class LiveLine:
    """Writes what is new in each piece of one model turn to `out`. A piece that does not
    continue what is shown (the generator started the turn over) starts a fresh line;
    `end()` closes the line so what follows (the turn, or the failure) prints below it."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.shown = ""

    def turn(self) -> LiveTurn:
        return LiveTurn(self.show, every_s=TERMINAL_EVERY_S)

    async def show(self, text: str) -> None:
        if self.shown and not text.startswith(self.shown):
            self.end()
        new = text[len(self.shown) :]
        if not new:
            return
        if not self.shown:
            self.out.write(WRITING)
        self.out.write(new)
        self.out.flush()
        self.shown = text

    def end(self) -> None:
        if self.shown:
            self.out.write("\n")
            self.out.flush()
        self.shown = ""
