"""The bot as the modules under bot/discord/client.py see it: the Discord client with the engine
and the state one process shares (cooldowns, which message shows which turn, requests in
flight).

Buttons, presentation, the deadline clock and reactions name this type instead of `StoryBot`,
so they need not import client.py, which imports them to wire them together.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from discord.ext import commands

if TYPE_CHECKING:
    from bot.discord.board import RecordedBoard
    from bot.discord.cooldowns import Cooldowns
    from bot.discord.inflight import Inflight
    from bot.settings import BotSection
    from bot.story import StoryEngine


class StoryClient(commands.AutoShardedBot):
    """Declares what `StoryBot` (bot/discord/client.py) sets up in its constructor."""

    engine: StoryEngine
    settings: BotSection
    cooldowns: Cooldowns
    start_limits: Cooldowns
    board: RecordedBoard
    inflight: Inflight
