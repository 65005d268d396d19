"""One change at a time per story.

A story's turns form one sequence, so two people pressing Continue at once must not produce two
turns: the second is told a turn is being written, rather than made to wait and then handed a
turn that no longer follows the story. The locks come from storage (`Storage.story_locks`), so
they hold across every bot process on a shared database (PostgreSQL advisory locks) and within
the one process that may write a SQLite file; the engine never knows which. Storage's seat
checks cover what a lock lost with a dropped connection could let through.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bot.errors import TurnInProgress
from storage.repositories import StoryLockProvider


class StoryLocks:
    def __init__(self, provider: StoryLockProvider) -> None:
        self._provider = provider

    @asynccontextmanager
    async def hold(self, story_id: int) -> AsyncIterator[None]:
        """Hold the story for the block, or raise TurnInProgress at once if it is held."""
        async with self.try_hold(story_id) as held:
            if not held:
                raise TurnInProgress()
            yield

    @asynccontextmanager
    async def try_hold(self, story_id: int) -> AsyncIterator[bool]:
        """Hold the story for the block if it is free; yields whether it was."""
        if not await self._provider.try_acquire(story_id):
            yield False
            return
        try:
            yield True
        finally:
            await self._provider.release(story_id)
