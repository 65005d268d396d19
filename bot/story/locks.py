"""One change at a time per story.

A story's turns form one sequence, so two people pressing Continue at once must not produce two
turns: the second is told a turn is being written, rather than made to wait and then handed a
turn that no longer follows the story. The lock lives in this process; a story is served by one
bot process (shards split guilds, never a channel), and storage's seat checks cover the rest.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bot.errors import TurnInProgress


class StoryLocks:
    def __init__(self) -> None:
        self._held: set[int] = set()

    def busy(self, story_id: int) -> bool:
        return story_id in self._held

    @asynccontextmanager
    async def hold(self, story_id: int) -> AsyncIterator[None]:
        """Hold the story for the block, or raise TurnInProgress at once if it is held.

        Claiming is a set check with no await in between, so it is atomic on the event loop.
        """
        if story_id in self._held:
            raise TurnInProgress()
        self._held.add(story_id)
        try:
            yield
        finally:
            self._held.discard(story_id)
