"""`/lore`: the story's memory and the lorebooks (the story's, and the server's for moderators):
entries through a form, listed with where each stands for the next model turn, and moved in
and out as SillyTavern World Info JSON."""

from __future__ import annotations

import io
import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.app_commands import Choice, Range
from discord.ext import commands

from bot.discord.actor import Actor
from bot.discord.lore_modals import LoreModal, MemoryModal
from bot.discord.render import Out, escape
from bot.discord.render_lore import entry_text, listing_text, memory_text
from bot.discord.tree import reply, think
from bot.errors import InvalidInput
from bot.story.lore_results import LoreScope, LoreView
from bot.story.worldinfo import MAX_BOOK_BYTES

if TYPE_CHECKING:
    from bot.discord.client import StoryBot

log = logging.getLogger("talewright.discord")

SCOPE_CHOICES = [
    Choice(name="this story", value="story"),
    Choice(name="the server", value="server"),
]


@app_commands.guild_only()
class LoreCog(commands.GroupCog, group_name="lore", group_description="Story memory and lorebooks"):
    def __init__(self, bot: StoryBot) -> None:
        self.bot = bot
        self.engine = bot.engine

    @app_commands.command(description="Add a lore entry (a form)")
    @app_commands.describe(
        scope="The story's book (its owner) or the server's (moderators)",
        always="Always in the context, whatever the turns say",
    )
    @app_commands.choices(scope=SCOPE_CHOICES)
    async def add(
        self, interaction: discord.Interaction, scope: str = "story", always: bool = False
    ) -> None:
        actor = Actor.of(interaction)
        book: LoreScope = "server" if scope == "server" else "story"

        async def finish(submitted: discord.Interaction, values: dict[str, str]) -> None:
            await think(submitted, private=True)
            result = await self.engine.lore_add(
                actor.guild_id,
                actor.place_id,
                actor.user_id,
                values["name"],
                values["keys"],
                values["text"],
                constant=always,
                priority=values["priority"].strip() or "100",
                scope=book,
                is_moderator=_moderator(actor, book),
            )
            await reply(
                submitted, [Out(content=entry_text(result.entry, *result.notices))], private=True
            )

        await interaction.response.send_modal(LoreModal("New lore entry", {}, finish))

    @app_commands.command(description="Change a lore entry (a form)")
    @app_commands.describe(name="The entry", always="Always in the context (leave out: unchanged)")
    async def edit(
        self, interaction: discord.Interaction, name: Range[str, 1, 100], always: bool | None = None
    ) -> None:
        actor = Actor.of(interaction)
        entry = (await self.engine.lore_show(actor.guild_id, actor.place_id, name)).entry
        before = _values(entry)

        async def finish(submitted: discord.Interaction, values: dict[str, str]) -> None:
            changes: dict[str, object] = {k: v for k, v in values.items() if v != before[k]}
            if always is not None:
                changes["constant"] = always
            if not changes:
                await reply(submitted, [Out(content="Nothing changed.")], private=True)
                return
            await think(submitted, private=True)
            result = await self.engine.lore_edit(
                actor.guild_id,
                actor.place_id,
                actor.user_id,
                entry.name,
                scope=entry.scope,
                is_moderator=_moderator(actor, entry.scope),
                **changes,
            )
            await reply(
                submitted, [Out(content=entry_text(result.entry, *result.notices))], private=True
            )

        await interaction.response.send_modal(LoreModal("Change lore entry", before, finish))

    @app_commands.command(description="Remove a lore entry")
    @app_commands.describe(name="The entry")
    async def remove(self, interaction: discord.Interaction, name: Range[str, 1, 100]) -> None:
        actor = Actor.of(interaction)
        entry = (await self.engine.lore_show(actor.guild_id, actor.place_id, name)).entry
        removed = await self.engine.lore_remove(
            actor.guild_id,
            actor.place_id,
            actor.user_id,
            entry.name,
            scope=entry.scope,
            is_moderator=_moderator(actor, entry.scope),
        )
        text = f"Removed **{escape(removed.name)}** from the {removed.scope} lore."
        await reply(interaction, [Out(content=text)], private=True)

    @app_commands.command(description="Show a lore entry")
    @app_commands.describe(name="The entry")
    async def show(self, interaction: discord.Interaction, name: Range[str, 1, 100]) -> None:
        actor = Actor.of(interaction)
        result = await self.engine.lore_show(actor.guild_id, actor.place_id, name)
        await reply(interaction, [Out(content=entry_text(result.entry))], private=True)

    @app_commands.command(description="The memory and lore here, and what the next turn reads")
    async def list(self, interaction: discord.Interaction) -> None:
        actor = Actor.of(interaction)
        listing = await self.engine.lore_list(actor.guild_id, actor.place_id)
        await reply(interaction, [Out(content=listing_text(listing))], private=True)

    @app_commands.command(description="Show or change the story's memory (a form)")
    async def memory(self, interaction: discord.Interaction) -> None:
        actor = Actor.of(interaction)
        current = await self.engine.memory_show(actor.place_id)

        async def finish(submitted: discord.Interaction, text: str) -> None:
            await think(submitted, private=True)
            result = await self.engine.memory_set(
                actor.place_id, actor.user_id, text, is_moderator=actor.is_moderator
            )
            await reply(submitted, [Out(content=memory_text(result))], private=True)

        await interaction.response.send_modal(MemoryModal(current.text, finish))

    @app_commands.command(name="import", description="Import a SillyTavern World Info JSON file")
    @app_commands.describe(book="World Info (lorebook) .json", scope="Into which lorebook")
    @app_commands.choices(scope=SCOPE_CHOICES)
    async def import_(
        self, interaction: discord.Interaction, book: discord.Attachment, scope: str = "story"
    ) -> None:
        actor = Actor.of(interaction)
        chosen: LoreScope = "server" if scope == "server" else "story"
        if book.size > MAX_BOOK_BYTES:
            raise InvalidInput(
                f"That lorebook is too large (the limit is {MAX_BOOK_BYTES:,} bytes)."
            )
        await think(interaction, private=True)
        try:
            data = await book.read()
        except discord.HTTPException as exc:
            raise InvalidInput("The lorebook could not be downloaded; try again.") from exc
        result = await self.engine.lore_import(
            actor.guild_id,
            actor.place_id,
            actor.user_id,
            data,
            scope=chosen,
            is_moderator=_moderator(actor, chosen),
        )
        text = (
            f"Imported into the {result.scope} lore: {result.added} new, {result.replaced} "
            f"replaced, {result.skipped} skipped (disabled or empty)."
        )
        await reply(interaction, [Out(content="\n".join([text, *result.notices]))], private=True)

    @app_commands.command(description="Save a lorebook as SillyTavern World Info JSON")
    @app_commands.describe(scope="Which lorebook")
    @app_commands.choices(scope=SCOPE_CHOICES)
    async def export(self, interaction: discord.Interaction, scope: str = "story") -> None:
        actor = Actor.of(interaction)
        await think(interaction, private=True)
        chosen: LoreScope = "server" if scope == "server" else "story"
        exported = await self.engine.lore_export(actor.guild_id, actor.place_id, scope=chosen)
        file = discord.File(io.BytesIO(exported.data), filename=exported.filename)
        text = f"{exported.count} entries as SillyTavern World Info."
        await reply(interaction, [Out(content=text, files=[file])], private=True)

    @edit.autocomplete("name")
    @remove.autocomplete("name")
    @show.autocomplete("name")
    async def _names(self, interaction: discord.Interaction, current: str) -> list[Choice[str]]:
        if interaction.guild_id is None or interaction.channel_id is None:
            return []
        try:
            names = await self.engine.lore_names(
                interaction.guild_id, interaction.channel_id, current
            )
        except Exception:
            log.exception("lore autocomplete failed")
            return []
        return [Choice(name=name, value=name) for name in names]


def _moderator(actor: Actor, scope: LoreScope) -> bool:
    """Rights over the story here for its book; server-wide rights for the server's."""
    return actor.is_guild_moderator if scope == "server" else actor.is_moderator


def _values(entry: LoreView) -> dict[str, str]:
    return {
        "name": entry.name,
        "keys": ", ".join(entry.keys),
        "text": entry.text,
        "priority": str(entry.priority),
    }


async def setup(bot: StoryBot) -> None:
    await bot.add_cog(LoreCog(bot))
