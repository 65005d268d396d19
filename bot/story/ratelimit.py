"""A sliding-window limit: at most `count` uses per key within `window_s` seconds."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Hashable

PRUNE_AT = 10_000
"""Forget keys whose uses have all expired once this many are remembered."""


class WindowLimit:
    def __init__(self, count: int, window_s: float, clock: Callable[[], float]) -> None:
        self.count = count
        self.window_s = window_s
        self._clock = clock
        self._uses: dict[Hashable, deque[float]] = {}

    def take(self, key: Hashable) -> float:
        """Record a use and return 0, or return the seconds until one is free (nothing
        recorded)."""
        now = self._clock()
        uses = self._uses.setdefault(key, deque())
        while uses and uses[0] <= now - self.window_s:
            uses.popleft()
        if len(uses) >= self.count:
            return uses[0] + self.window_s - now
        uses.append(now)
        if len(self._uses) >= PRUNE_AT:
            self._prune(now)
        return 0.0

    def _prune(self, now: float) -> None:
        for key in [k for k, uses in self._uses.items() if uses[-1] <= now - self.window_s]:
            del self._uses[key]
