"""`/mod` for moderators (Manage Messages for the whole server, not one channel's overwrite: the
queue, decisions and rules are server-wide); and the "Report turn" message command, which
anyone can use on a turn the bot posted."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.app_commands import Choice, Range
from discord.ext import commands

from bot.discord.actor import Actor
from bot.discord.render import Out, text_messages, turn_id_in
from bot.discord.render_mod import queue_messages, resolved_text, rules_text
from bot.discord.tree import reply
from bot.errors import InvalidInput
from generators.moderation import CATEGORIES
from storage.models import ANY_CATEGORY

if TYPE_CHECKING:
    from bot.discord.client import StoryBot

LEVELS = [
    Choice(name="family (strictest)", value="family"),
    Choice(name="teen", value="teen"),
    Choice(name="mature (least strict)", value="mature"),
]
LINKS = [
    Choice(name="allowed everywhere", value="allow"),
    Choice(name="in story text only, not titles or names", value="turns"),
    Choice(name="not allowed", value="block"),
]
ACTIONS = [
    Choice(name="hide the turn", value="hide"),
    Choice(name="dismiss the event", value="dismiss"),
]
CATEGORY_CHOICES = [Choice(name="every category", value=ANY_CATEGORY)] + [
    Choice(name=c.replace("_", " "), value=c) for c in CATEGORIES
]


def terms(text: str | None) -> list[str]:
    return [term.strip() for term in (text or "").split(",") if term.strip()]


@app_commands.guild_only()
@app_commands.default_permissions(manage_messages=True)
class ModerationCog(commands.GroupCog, group_name="mod", group_description="Moderate stories"):
    def __init__(self, bot: StoryBot) -> None:
        self.bot = bot
        self.engine = bot.engine
        self.report_menu = app_commands.ContextMenu(name="Report turn", callback=self.report)
        self.report_menu.guild_only = True

    async def cog_load(self) -> None:
        self.bot.tree.add_command(self.report_menu)

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self.report_menu.name, type=self.report_menu.type)

    @app_commands.command(description="Open moderation events, newest first")
    async def queue(self, interaction: discord.Interaction) -> None:
        actor = Actor.of(interaction)
        result = await self.engine.mod_queue(actor.guild_id, is_moderator=actor.is_guild_moderator)
        await reply(interaction, queue_messages(result), private=True)

    @app_commands.command(description="Decide an event: hide its turn or dismiss it")
    @app_commands.describe(event="The event's number", action="What to do", note="Why")
    @app_commands.choices(action=ACTIONS)
    async def resolve(
        self,
        interaction: discord.Interaction,
        event: int,
        action: str,
        note: Range[str, 1, 300] | None = None,
    ) -> None:
        actor = Actor.of(interaction)
        result = await self.engine.mod_resolve(
            event,
            actor.user_id,
            action,
            is_moderator=actor.is_guild_moderator,
            guild_id=actor.guild_id,
            note=note,
        )
        removed = False
        if result.resolution == "hidden" and result.turn_id is not None:
            removed = await self._remove_turn_message(result.turn_id)
        await reply(interaction, [Out(content=resolved_text(result, removed))], private=True)

    async def _remove_turn_message(self, turn_id: int) -> bool:
        shown = self.bot.board.forget(turn_id)
        if shown is None:
            return False
        channel = self.bot.get_partial_messageable(shown.channel_id)
        try:
            await channel.get_partial_message(shown.message_id).delete()
        except discord.HTTPException:
            return False
        return True

    @app_commands.command(name="settings", description="See or change this server's rules")
    @app_commands.describe(
        level="How strict moderation is",
        block="Words to block, comma-separated",
        unblock="Words to stop blocking, comma-separated",
        exempt="Words never to flag, comma-separated",
        unexempt="Words to stop exempting, comma-separated",
        category="The category blocked words are filed under",
        links="Where links may appear",
    )
    @app_commands.choices(level=LEVELS, category=CATEGORY_CHOICES, links=LINKS)
    async def settings(
        self,
        interaction: discord.Interaction,
        level: str | None = None,
        block: Range[str, 1, 1000] | None = None,
        unblock: Range[str, 1, 1000] | None = None,
        exempt: Range[str, 1, 1000] | None = None,
        unexempt: Range[str, 1, 1000] | None = None,
        category: str = ANY_CATEGORY,
        links: str | None = None,
    ) -> None:
        actor = Actor.of(interaction)
        if not any((level, block, unblock, exempt, unexempt, links)):
            rules = await self.engine.mod_settings(actor.guild_id)
        else:
            rules = await self.engine.mod_settings_set(
                actor.guild_id,
                actor.user_id,
                is_moderator=actor.is_guild_moderator,
                level=level,
                block=terms(block),
                unblock=terms(unblock),
                exempt=terms(exempt),
                unexempt=terms(unexempt),
                category=category,
                links=links,
            )
        await reply(interaction, text_messages(rules_text(rules)), private=True)

    @app_commands.command(
        name="reactions", description="See or change the emoji counted as up and down on turns"
    )
    @app_commands.describe(
        up="The emoji that counts as up (👍)", down="The emoji that counts as down (👎)"
    )
    async def reactions(
        self,
        interaction: discord.Interaction,
        up: Range[str, 1, 64] | None = None,
        down: Range[str, 1, 64] | None = None,
    ) -> None:
        actor = Actor.of(interaction)
        if up is None and down is None:
            emoji = await self.engine.reaction_emoji(actor.guild_id)
        else:
            emoji = await self.engine.reaction_emoji_set(
                actor.guild_id, is_moderator=actor.is_guild_moderator, up=up, down=down
            )
        text = f"Turns count {emoji.up} as up and {emoji.down} as down."
        await reply(interaction, text_messages(text), private=True)

    async def report(self, interaction: discord.Interaction, message: discord.Message) -> None:
        """Flag a turn for this server's moderators."""
        actor = Actor.of(interaction)
        mine = self.bot.user is not None and message.author.id == self.bot.user.id
        turn_id = turn_id_in(message) if mine else None
        if turn_id is None:
            raise InvalidInput("That message is not a story turn; report a turn the bot posted.")
        self.bot.board.remember(turn_id, message.channel.id, message.id)
        result = await self.engine.report_turn(turn_id, actor.user_id, guild_id=actor.guild_id)
        if result.event is None:
            text = f"You already reported turn #{turn_id}."
        else:
            text = f"Reported turn #{turn_id} to the moderators. Thank you."
        await reply(interaction, [Out(content=text)], private=True)


async def setup(bot: StoryBot) -> None:
    await bot.add_cog(ModerationCog(bot))
