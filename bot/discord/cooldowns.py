"""Spacing between model requests: per user and per channel, so one person or one channel
cannot keep the model to themselves, and a per-guild cap on requests a minute against abuse
(ten people writing in ten channels never meet it). Starting a story is limited the same way,
per user and per guild an hour (`start_limits`), since each start may open a thread.

A request claims its slots when it starts and gives them back if it fails, so a refused
turn ("it's not your turn") costs nothing; a generator that timed out or was busy keeps
them. Slots are only remembered while they block.

A person may write in guilds that different bot processes run (shards), so `claim` also keeps
the per-user spacing in storage (`shared`), where every process on the database sees it; the
channel and guild limits stay in memory, since one process runs all of a guild.
"""

from __future__ import annotations

import logging
import math
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager

from discord import app_commands

from bot.errors import GeneratorBusy, GeneratorTooSlow
from storage.errors import StorageError
from storage.repositories import CooldownRepository

log = logging.getLogger("talewright.cooldowns")

PRUNE_AT = 10_000
"""Forget expired entries once a table holds this many."""
GUILD_WINDOW_S = 60.0
"""The guild cap on model requests counts them over this sliding window."""
KEEPS_CLAIM = (GeneratorTooSlow, GeneratorBusy)
"""Failures that keep the claim: the model was busy, or worked until the deadline on this
request, so an immediate retry would only add to its load."""


MODEL_BUSY = "This server has asked the model for many turns this minute"


class GuildBusy(app_commands.CommandOnCooldown):
    """The guild went over its cap in the window; `text` says what, and when to try again."""

    def __init__(self, cooldown: app_commands.Cooldown, retry_after: float, busy: str) -> None:
        super().__init__(cooldown, retry_after)
        self.text = f"{busy}; try again in {math.ceil(retry_after)} s."


class Cooldowns:
    def __init__(
        self,
        user_s: float,
        channel_s: float,
        guild_cap: int,
        clock: Callable[[], float] = time.monotonic,
        *,
        guild_window_s: float = GUILD_WINDOW_S,
        busy: str = MODEL_BUSY,
        shared: CooldownRepository | None = None,
        scope: str = "model",
    ) -> None:
        self.user_s = user_s
        self.shared = shared
        self.scope = scope
        self.channel_s = channel_s
        self.guild_cap = guild_cap
        self.guild_window_s = guild_window_s
        self.busy = busy
        self._clock = clock
        self._users: dict[int, float] = {}
        self._channels: dict[int, float] = {}
        self._guilds: dict[int, deque[float]] = {}

    @contextmanager
    def use(self, user_id: int, channel_id: int, guild_id: int | None) -> Iterator[None]:
        """Claim the user's and the channel's slot and one of the guild's requests in the window
        for one model request, or raise `CommandOnCooldown` (`GuildBusy` for the guild cap)
        with the seconds left; the claim is undone if the block raises."""
        now = self._clock()
        slots = [(self._users, user_id, self.user_s), (self._channels, channel_id, self.channel_s)]
        for table, key, per in slots:
            wait = table.get(key, -per) + per - now
            if wait > 0:
                raise app_commands.CommandOnCooldown(app_commands.Cooldown(1, per), wait)
        recent = self._guild_window(guild_id, now)
        if recent is not None and len(recent) >= self.guild_cap:
            wait = recent[0] + self.guild_window_s - now
            cap = app_commands.Cooldown(self.guild_cap, self.guild_window_s)
            raise GuildBusy(cap, wait, self.busy)
        previous = [(table, key, table.get(key)) for table, key, _ in slots]
        for table, key, per in slots:
            if per > 0:
                self._prune(table, per, now)
                table[key] = now
        if recent is not None:
            recent.append(now)
        try:
            yield
        except KEEPS_CLAIM:
            raise
        except BaseException:
            for table, key, before in previous:
                if table.get(key) == now:
                    if before is None:
                        table.pop(key, None)
                    else:
                        table[key] = before
            if recent is not None and now in recent:
                recent.remove(now)
            raise

    @asynccontextmanager
    async def claim(
        self, user_id: int, channel_id: int, guild_id: int | None
    ) -> AsyncIterator[None]:
        """`use`, with the user's spacing also claimed in storage when `shared` is given (and
        taken back there, as here, when the block fails)."""
        with self.use(user_id, channel_id, guild_id):
            if self.shared is None or self.user_s <= 0:
                yield
                return
            at, wait = await self.shared.claim(self.scope, user_id, self.user_s)
            if at is None:
                raise app_commands.CommandOnCooldown(app_commands.Cooldown(1, self.user_s), wait)
            try:
                yield
            except KEEPS_CLAIM:
                raise
            except BaseException:
                try:
                    await self.shared.undo(self.scope, user_id, at)
                except StorageError:
                    log.warning("could not give back user %s's %s slot", user_id, self.scope)
                raise

    def _guild_window(self, guild_id: int | None, now: float) -> deque[float] | None:
        """The guild's requests within the window (None when there is no cap or no guild)."""
        if guild_id is None or self.guild_cap <= 0:
            return None
        recent = self._guilds.get(guild_id)
        if recent is None:
            if len(self._guilds) >= PRUNE_AT:
                for key in [
                    k
                    for k, q in self._guilds.items()
                    if not q or q[-1] <= now - self.guild_window_s
                ]:
                    del self._guilds[key]
            recent = self._guilds[guild_id] = deque()
        while recent and recent[0] <= now - self.guild_window_s:
            recent.popleft()
        return recent

    @staticmethod
    def _prune(table: dict[int, float], per: float, now: float) -> None:
        if len(table) >= PRUNE_AT:
            for key in [k for k, at in table.items() if at + per <= now]:
                del table[key]


def start_limits(
    user_s: float,
    guild_per_hour: int,
    clock: Callable[[], float] = time.monotonic,
    shared: CooldownRepository | None = None,
) -> Cooldowns:
    """Spacing of `/story start` per user, and a cap on starts per guild an hour."""
    return Cooldowns(
        user_s,
        0,
        guild_per_hour,
        clock,
        guild_window_s=3600.0,
        busy="This server has started many stories this hour",
        shared=shared,
        scope="start",
    )
