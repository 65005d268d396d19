"""`/style`: a writer's style profile (text and a chart), preferences for the model turns
they ask for, and deleting it; `/privacy`: a copy of all of a user's data, deleting it, and
whether style memory learns from them (opt-in, with a per-server default)."""

from __future__ import annotations

import asyncio
import io
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.app_commands import Choice
from discord.ext import commands

from bot.discord.chart import style_chart
from bot.discord.render import Out
from bot.discord.render_style import forget_text, style_text
from bot.discord.tree import reply, report_error, think
from bot.render_privacy import DELETE_WARNING, delete_text, export_text, style_choice_text

if TYPE_CHECKING:
    from bot.discord.client import StoryBot

LENGTHS = [Choice(name=name, value=name) for name in ("short", "medium", "long", "default")]
TONES = {"steady": 0.6, "balanced": 0.8, "lively": 1.1, "wild": 1.4}
"""Tone is how adventurous the model's sampling is: its temperature."""
TONE_CHOICES = [
    *(Choice(name=f"{name} (temperature {value})", value=name) for name, value in TONES.items()),
    Choice(name="default", value="default"),
]
CHART_NAME = "style.png"
STYLE_CHOICES = [Choice(name=name, value=name) for name in ("on", "off", "server default")]
CONFIRM_TIMEOUT_S = 120.0


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

    @app_commands.command(
        description="Delete your style profile and feedback (all your data: /privacy delete)"
    )
    async def forget(self, interaction: discord.Interaction) -> None:
        result = await self.engine.style_forget(interaction.user.id)
        await reply(interaction, [Out(content=forget_text(result))], private=True)


class ConfirmDelete(discord.ui.View):
    """A button only the user who asked can press; nothing is deleted without it."""

    def __init__(self, bot: StoryBot, user_id: int) -> None:
        super().__init__(timeout=CONFIRM_TIMEOUT_S)
        self.bot = bot
        self.user_id = user_id

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        return interaction.user.id == self.user_id

    async def on_error(
        self, interaction: discord.Interaction, error: Exception, _: discord.ui.Item
    ) -> None:
        await report_error(interaction, error)

    @discord.ui.button(label="Delete my data", style=discord.ButtonStyle.danger)
    async def confirm(self, interaction: discord.Interaction, _: discord.ui.Button) -> None:
        self.stop()
        result = await self.bot.engine.privacy_delete(self.user_id)
        await interaction.response.edit_message(content=delete_text(result), view=None)

    @discord.ui.button(label="Cancel", style=discord.ButtonStyle.secondary)
    async def cancel(self, interaction: discord.Interaction, _: discord.ui.Button) -> None:
        self.stop()
        await interaction.response.edit_message(content="Nothing was deleted.", view=None)


@app_commands.guild_only()
class PrivacyCog(commands.GroupCog, group_name="privacy", group_description="Your data"):
    def __init__(self, bot: StoryBot) -> None:
        self.bot = bot
        self.engine = bot.engine

    @app_commands.command(description="A copy of all your data, as a JSON file only you see")
    async def export(self, interaction: discord.Interaction) -> None:
        await think(interaction, private=True)
        export = await self.engine.privacy_export(interaction.user.id)
        data = io.BytesIO(export.json_text.encode("utf-8"))
        out = Out(content=export_text(export), files=[discord.File(data, export.filename)])
        await reply(interaction, [out], private=True)

    @app_commands.command(description="Delete your data everywhere (asks you to confirm)")
    async def delete(self, interaction: discord.Interaction) -> None:
        view = ConfirmDelete(self.bot, interaction.user.id)
        await reply(interaction, [Out(content=DELETE_WARNING, view=view)], private=True)

    @app_commands.command(description="Whether the bot learns your writing style")
    @app_commands.describe(choice="on, off (also deletes what it learned), or the server default")
    @app_commands.choices(choice=STYLE_CHOICES)
    async def style(self, interaction: discord.Interaction, choice: str | None = None) -> None:
        guild_id = interaction.guild_id or 0
        on = {"on": True, "off": False}.get(choice or "")
        result = await self.engine.privacy_style(
            interaction.user.id, guild_id, on, change=choice is not None
        )
        await reply(interaction, [Out(content=style_choice_text(result))], private=True)

    @app_commands.command(
        name="server-style",
        description="Style memory for members who made no choice (Manage Server)",
    )
    @app_commands.choices(choice=STYLE_CHOICES[:2])
    async def server_style(self, interaction: discord.Interaction, choice: str) -> None:
        member = interaction.user
        manages = isinstance(member, discord.Member) and member.guild_permissions.manage_guild
        result = await self.engine.privacy_server_style(
            interaction.guild_id or 0, member.id, choice == "on", is_moderator=manages
        )
        await reply(interaction, [Out(content=style_choice_text(result))], private=True)


async def setup(bot: StoryBot) -> None:
    await bot.add_cog(StyleCog(bot))
    await bot.add_cog(PrivacyCog(bot))
