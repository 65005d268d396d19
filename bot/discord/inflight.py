"""Model requests people are waiting on, kept in storage so a crash cannot leave "…is thinking"
forever: each is recorded once its placeholder is up and removed once it is answered, and a
restarted bot edits every placeholder it finds left over to say the request was interrupted.
Of several bot processes on one database, each settles only the requests of the guilds its
shards run (`owns`): another process's requests are still being answered.

Discord lets an interaction's token edit its response for 15 minutes; an older placeholder
cannot be reached without its message id, which costs a request per command to learn, so it is
left as it is (a bot down that long has a restart people noticed).
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import discord

from bot.discord.render import no_mentions
from storage.models import InflightRequest
from storage.repositories import InflightRepository

log = logging.getLogger("talewright.discord")

TOKEN_LIFETIME_S = 15 * 60
TOKEN_MARGIN_S = 30
"""A token this close to its end is not trusted to still work."""
INTERRUPTED = (
    "⚠️ This request was interrupted when the bot restarted. Look at the story with "
    "/story show, and ask again if the turn is missing."
)


class Inflight:
    def __init__(
        self,
        client: discord.Client,
        requests: InflightRepository,
        clock: Callable[[], float] = time.time,
        owns: Callable[[int | None], bool] = lambda _guild_id: True,
    ) -> None:
        self.client = client
        self.requests = requests
        self.clock = clock
        self.owns = owns

    @asynccontextmanager
    async def track(self, interaction: discord.Interaction) -> AsyncIterator[None]:
        """Record the acknowledged interaction for the block (answer it inside the block)."""
        request_id = await self.requests.add(
            interaction.channel_id or 0,
            interaction.application_id,
            interaction.token,
            interaction.guild_id,
        )
        try:
            yield
        finally:
            # A request cancelled at shutdown may keep its record: the next start settles it.
            try:
                await self.requests.remove(request_id)
            except Exception:
                log.warning("could not forget answered request %s", request_id, exc_info=True)

    async def settle(self) -> int:
        """Tell everyone left waiting by a crash that their request was interrupted; returns
        how many placeholders were edited. Every leftover record of this process's guilds is
        removed."""
        edited = 0
        for request in await self.requests.list_all():
            if not self.owns(request.guild_id):
                continue
            try:
                edited += await self._settle(request)
            except discord.HTTPException as exc:
                log.info("could not settle interrupted request %s: %s", request.id, exc)
            finally:
                await self.requests.remove(request.id)
        if edited:
            log.info("told %d people that a restart interrupted their request", edited)
        return edited

    async def _settle(self, request: InflightRequest) -> bool:
        if self.clock() - request.started_at >= TOKEN_LIFETIME_S - TOKEN_MARGIN_S:
            return False
        webhook = discord.Webhook.partial(request.application_id, request.token, client=self.client)
        # "@original" is Discord's id for an interaction's response; discord.py types the
        # message id as int but puts it in the URL as it is.
        original = await webhook.fetch_message("@original")  # pyright: ignore[reportArgumentType]
        if not original.flags.loading:
            # Answered before the crash (the record outlived its answer): leave the turn be.
            return False
        await webhook.edit_message(
            "@original",  # pyright: ignore[reportArgumentType]  (as above)
            content=INTERRUPTED,
            embeds=[],
            view=None,
            allowed_mentions=no_mentions(),
        )
        return True
