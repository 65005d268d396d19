"""`/character`: sheets made through two modals, shown, listed, deleted, and moved in and out
as Character Card V2 files (JSON, or PNG with the card in its `chara` chunk)."""

from __future__ import annotations

import io
import logging
from typing import TYPE_CHECKING, Literal

import discord
from discord import app_commands
from discord.app_commands import Choice, Range
from discord.ext import commands

from bot.discord.actor import Actor
from bot.discord.lookups import character_choices
from bot.discord.modals import SheetFlow
from bot.discord.render import Out
from bot.discord.render_characters import list_messages, sheet_messages, sheet_values, split_tags
from bot.discord.tree import reply, think
from bot.errors import InvalidInput, PermissionDenied
from bot.story.cards import MAX_CARD_FILE_BYTES

if TYPE_CHECKING:
    from bot.discord.client import StoryBot

log = logging.getLogger("talewright.discord")

TEXT_FIELDS = ("description", "personality", "speech_style", "backstory", "first_message")


@app_commands.guild_only()
class CharacterCog(
    commands.GroupCog, group_name="character", group_description="Character sheets for stories"
):
    def __init__(self, bot: StoryBot) -> None:
        self.bot = bot
        self.engine = bot.engine

    @app_commands.command(description="Create a character (a two-page form)")
    async def create(self, interaction: discord.Interaction) -> None:
        actor = Actor.of(interaction)

        async def finish(submitted: discord.Interaction, values: dict[str, str]) -> None:
            await submitted.response.defer()
            result = await self.engine.character_create(
                actor.guild_id,
                actor.user_id,
                values.get("name", ""),
                tags=split_tags(values.get("tags", "")),
                **{key: values.get(key, "") for key in TEXT_FIELDS},
            )
            await reply(submitted, sheet_messages(result.character, *result.notices), private=True)

        flow = SheetFlow("New character", actor.user_id, {}, finish)
        await interaction.response.send_modal(flow.first_modal())

    @app_commands.command(description="Change one of your characters (a two-page form)")
    @app_commands.describe(name="The character to change")
    async def edit(self, interaction: discord.Interaction, name: Range[str, 1, 100]) -> None:
        actor = Actor.of(interaction)
        found = await self.engine.character_show(actor.guild_id, name, actor.user_id)
        character = found.character
        if character.owner_id != actor.user_id and not actor.is_guild_moderator:
            raise PermissionDenied(
                f'"{character.name}" belongs to someone else; only they or a moderator can '
                "change it."
            )
        before = sheet_values(character)

        async def finish(submitted: discord.Interaction, values: dict[str, str]) -> None:
            changes: dict[str, str | list[str]] = {
                key: value for key, value in values.items() if value != before.get(key)
            }
            if "tags" in changes:
                changes["tags"] = split_tags(values["tags"])
            if not changes:
                await reply(submitted, [Out(content="Nothing changed.")], private=True)
                return
            await submitted.response.defer()
            result = await self.engine.character_edit(
                actor.guild_id,
                actor.user_id,
                character.name,
                is_moderator=actor.is_guild_moderator,
                **changes,
            )
            await reply(submitted, sheet_messages(result.character, *result.notices), private=True)

        flow = SheetFlow(f"Edit {character.name}", actor.user_id, before, finish)
        await interaction.response.send_modal(flow.first_modal())

    @app_commands.command(description="Read a character sheet (only you see it)")
    @app_commands.describe(name="The character")
    async def show(self, interaction: discord.Interaction, name: Range[str, 1, 100]) -> None:
        actor = Actor.of(interaction)
        result = await self.engine.character_show(actor.guild_id, name, actor.user_id)
        await reply(interaction, sheet_messages(result.character), private=True)

    @app_commands.command(name="list", description="The characters here (only you see it)")
    @app_commands.describe(mine="Only your own characters")
    async def list_(self, interaction: discord.Interaction, mine: bool = False) -> None:
        actor = Actor.of(interaction)
        owner = actor.user_id if mine else None
        result = await self.engine.character_list(actor.guild_id, owner)
        await reply(interaction, list_messages(result), private=True)

    @app_commands.command(description="Delete one of your characters")
    @app_commands.describe(name="The character to delete")
    async def delete(self, interaction: discord.Interaction, name: Range[str, 1, 100]) -> None:
        actor = Actor.of(interaction)
        result = await self.engine.character_delete(
            actor.guild_id, actor.user_id, name, is_moderator=actor.is_guild_moderator
        )
        await reply(interaction, [Out(content=f"Deleted **{result.name}**.")], private=True)

    @app_commands.command(name="import", description="Import a Character Card (JSON or PNG)")
    @app_commands.describe(card="A Character Card V1/V2 as .json, or a .png with the card inside")
    async def import_(self, interaction: discord.Interaction, card: discord.Attachment) -> None:
        actor = Actor.of(interaction)
        if card.size > MAX_CARD_FILE_BYTES:
            limit = MAX_CARD_FILE_BYTES // (1024 * 1024)
            raise InvalidInput(f"That file is too big for a character card ({limit} MB at most).")
        await think(interaction, private=True)
        try:
            data = await card.read()
        except discord.HTTPException as exc:
            raise InvalidInput("The card file could not be downloaded; try again.") from exc
        result = await self.engine.character_import(actor.guild_id, actor.user_id, data)
        notices = ("Imported from the card.", *result.notices)
        await reply(interaction, sheet_messages(result.character, *notices), private=True)

    @app_commands.command(description="Save a character as a Character Card V2 file")
    @app_commands.describe(name="The character", file_format="JSON, or a PNG card image")
    @app_commands.rename(file_format="format")
    @app_commands.choices(
        file_format=[Choice(name="JSON", value="json"), Choice(name="PNG", value="png")]
    )
    async def export(
        self,
        interaction: discord.Interaction,
        name: Range[str, 1, 100],
        file_format: str = "json",
    ) -> None:
        actor = Actor.of(interaction)
        await think(interaction, private=True)
        chosen: Literal["json", "png"] = "png" if file_format == "png" else "json"
        card = await self.engine.character_export(actor.guild_id, actor.user_id, name, chosen)
        file = discord.File(io.BytesIO(card.data), filename=card.filename)
        text = f"**{card.character.name}** as a Character Card V2."
        await reply(interaction, [Out(content=text, files=[file])], private=True)

    @edit.autocomplete("name")
    @show.autocomplete("name")
    @delete.autocomplete("name")
    @export.autocomplete("name")
    async def _names(self, interaction: discord.Interaction, current: str) -> list[Choice[str]]:
        return await character_choices(self.engine, interaction, current)


async def setup(bot: StoryBot) -> None:
    await bot.add_cog(CharacterCog(bot))
