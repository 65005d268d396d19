"""Spacing between model requests, per user and per guild, so one person or one server
cannot keep the model to themselves.

A request claims both slots when it starts and gives them back if it fails, so a refused
turn ("it's not your turn") costs nothing. Slots are only remembered while they block.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from discord import app_commands

PRUNE_AT = 10_000
"""Forget expired entries once a table holds this many."""


class Cooldowns:
    def __init__(
        self, user_s: float, guild_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.user_s = user_s
        self.guild_s = guild_s
        self._clock = clock
        self._users: dict[int, float] = {}
        self._guilds: dict[int, float] = {}

    @contextmanager
    def use(self, user_id: int, guild_id: int | None) -> Iterator[None]:
        """Claim the user's and the guild's slot for one model request, or raise
        `CommandOnCooldown` with the seconds left; the claim is undone if the block raises."""
        now = self._clock()
        slots = [(self._users, user_id, self.user_s)]
        if guild_id is not None:
            slots.append((self._guilds, guild_id, self.guild_s))
        for table, key, per in slots:
            wait = table.get(key, -per) + per - now
            if wait > 0:
                raise app_commands.CommandOnCooldown(app_commands.Cooldown(1, per), wait)
        previous = [(table, key, table.get(key)) for table, key, _ in slots]
        for table, key, per in slots:
            if per > 0:
                self._prune(table, per, now)
                table[key] = now
        try:
            yield
        except BaseException:
            for table, key, before in previous:
                if table.get(key) == now:
                    if before is None:
                        table.pop(key, None)
                    else:
                        table[key] = before
            raise

    @staticmethod
    def _prune(table: dict[int, float], per: float, now: float) -> None:
        if len(table) >= PRUNE_AT:
            for key in [k for k, at in table.items() if at + per <= now]:
                del table[key]
