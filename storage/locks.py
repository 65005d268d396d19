"""Per-story locks within one process: the whole story lock for a backend that one process
writes at a time (SQLite, see storage/sqlite/writer_lock.py), and the first step of a backend
shared by several (storage/postgres/locks.py), where two coroutines of one process must not
both pass as the same database session."""

from __future__ import annotations


class InProcessStoryLocks:
    """A set of held story ids; claiming is a check and an add with no await between them,
    so it is atomic on the event loop."""

    def __init__(self) -> None:
        self._held: set[int] = set()

    async def try_acquire(self, story_id: int) -> bool:
        return self.claim(story_id)

    async def release(self, story_id: int) -> None:
        self.drop(story_id)

    def claim(self, story_id: int) -> bool:
        if story_id in self._held:
            return False
        self._held.add(story_id)
        return True

    def drop(self, story_id: int) -> None:
        self._held.discard(story_id)
