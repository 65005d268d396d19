"""`/style`: a writer's style profile (text and a chart), preferences for the model turns
they ask for, and deleting it all."""

from __future__ import annotations

import asyncio
import io
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.app_commands import Choice
from discord.ext import commands

from bot.chart import style_chart
from bot.render import Out
from bot.render_style import forget_text, style_text
from bot.tree import reply, think

if TYPE_CHECKING:
    from bot.client import StoryBot

LENGTHS = [Choice(name=name, value=name) for name in ("short", "medium", "long", "default")]
TONES = {"steady": 0.6, "balanced": 0.8, "lively": 1.1, "wild": 1.4}
"""Tone is how adventurous the model's sampling is: its temperature."""
TONE_CHOICES = [
    *(Choice(name=f"{name} (temperature {value})", value=name) for name, value in TONES.items()),
    Choice(name="default", value="default"),
]
CHART_NAME = "style.png"


@app_commands.guild_only()
class StyleCog(commands.GroupCog, group_name="style", group_description="Your writing style"):
    def __init__(self, bot: StoryBot) -> None:
        self.bot = bot
        self.engine = bot.engine

    @app_commands.command(description="Your style profile, with a chart (only you see it)")
    async def show(self, interaction: discord.Interaction) -> None:
        await think(interaction, private=True)
        view = await self.engine.style_show(interaction.user.id)
        out = Out(content=style_text(view))
        if view.stats:
            png = await asyncio.to_thread(style_chart, view.stats)
            embed = discord.Embed(colour=discord.Colour.blurple())
            embed.set_image(url=f"attachment://{CHART_NAME}")
            out.embeds.append(embed)
            out.files.append(discord.File(io.BytesIO(png), filename=CHART_NAME))
        await reply(interaction, [out], private=True)

    @app_commands.command(description="How the model writes the turns you ask for")
    @app_commands.describe(length="How long its turns are", tone="How adventurous it is")
    @app_commands.choices(length=LENGTHS, tone=TONE_CHOICES)
    async def set(
        self, interaction: discord.Interaction, length: str | None = None, tone: str | None = None
    ) -> None:
        preferences: dict[str, Any] = {}
        if length is not None:
            preferences["length"] = length
        if tone is not None:
            preferences["temperature"] = TONES.get(tone, "default")
        view = await self.engine.style_set(interaction.user.id, **preferences)
        await reply(interaction, [Out(content=style_text(view))], private=True)

    @app_commands.command(description="Delete your style profile and feedback everywhere")
    async def forget(self, interaction: discord.Interaction) -> None:
        result = await self.engine.style_forget(interaction.user.id)
        await reply(interaction, [Out(content=forget_text(result))], private=True)


async def setup(bot: StoryBot) -> None:
    await bot.add_cog(StyleCog(bot))
