"""`/talewright`: what the bot is and how it is doing, and a command sync for its owner (after
an update adds commands, without a restart)."""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord.render import Out
from bot.discord.tree import reply, think
from bot.errors import PermissionDenied

if TYPE_CHECKING:
    from bot.discord.client import StoryBot

log = logging.getLogger("talewright.discord")

ABOUT = (
    "**Talewright** writes stories with you, turn by turn. Start one with `/story start`, "
    "write with `/story write`, and ask the model for the next turn with `/story continue`, "
    "a line for a character with `/story say` or a twist with `/story twist`."
)


class AdminCog(commands.GroupCog, group_name="talewright", group_description="About this bot"):
    def __init__(self, bot: StoryBot) -> None:
        self.bot = bot

    @app_commands.command(description="What this bot does, and how it is doing")
    async def about(self, interaction: discord.Interaction) -> None:
        latency = self.bot.latency * 1000
        gateway = "unknown" if math.isnan(latency) else f"{latency:.0f} ms"
        shards = self.bot.shard_count or 1
        status = f"{len(self.bot.guilds)} servers, {shards} shard(s), gateway latency {gateway}."
        await reply(interaction, [Out(content=f"{ABOUT}\n{status}")], private=True)

    @app_commands.command(description="Sync the slash commands (bot owner only)")
    async def sync(self, interaction: discord.Interaction) -> None:
        if not await self.bot.is_owner(interaction.user):
            raise PermissionDenied("Only the bot's owner can sync its commands.")
        await think(interaction, private=True)
        synced = await self.bot.sync_commands()
        await reply(interaction, [Out(content=f"Synced {len(synced)} commands.")], private=True)


async def setup(bot: StoryBot) -> None:
    await bot.add_cog(AdminCog(bot))
