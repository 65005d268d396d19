"""Pointing discord.py at the fake, and running an in-process bot against it."""

# ruff: noqa: ASYNC109 -- a test says how long it will wait, so timeouts are parameters.

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TypeVar

import discord
import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route

from .server import FakeDiscord

ClientT = TypeVar("ClientT", bound=discord.Client)
DISCORD_API = Route.BASE
DISCORD_GATEWAY = DiscordWebSocket.DEFAULT_GATEWAY


def configure_discord_py(base_url: str) -> None:
    """Point every discord.py client of this process at `base_url` (`.../api/v10`).

    `Route.BASE` is all an AutoShardedBot needs (it asks `GET /gateway/bot` for the socket);
    a plain Client/Bot connects straight to `DEFAULT_GATEWAY`, so that is set as well.
    """
    url = yarl.URL(base_url)
    Route.BASE = str(url)
    scheme = "wss" if url.scheme == "https" else "ws"
    DiscordWebSocket.DEFAULT_GATEWAY = url.with_scheme(scheme).with_path("/gateway")


def reset_discord_py() -> None:
    """Back to the real Discord, so one test's fake does not leak into the next."""
    Route.BASE = DISCORD_API
    DiscordWebSocket.DEFAULT_GATEWAY = DISCORD_GATEWAY


@asynccontextmanager
async def running_bot(
    bot: ClientT, fake: FakeDiscord, *, timeout: float = 10.0
) -> AsyncIterator[ClientT]:
    """Start `bot` against `fake`, yield once the fake saw it connect, close it afterwards.

    If the bot dies while starting (say its command sync got a 400), its own exception is
    raised here instead of a timeout.
    """
    configure_discord_py(fake.api_base_url)
    runner = asyncio.create_task(bot.start(fake.token))
    ready = asyncio.create_task(fake.wait_until_ready(timeout))
    try:
        await asyncio.wait({runner, ready}, return_when=asyncio.FIRST_COMPLETED)
        if runner.done():
            ready.cancel()
            runner.result()
            raise RuntimeError("the bot stopped before connecting to the fake")
        ready.result()
        yield bot
    finally:
        ready.cancel()
        await bot.close()
        await asyncio.gather(runner, return_exceptions=True)
        reset_discord_py()
