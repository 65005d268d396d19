"""Plain-message mode (`bot.plain_message_mode`): messages in a story's channel or thread are
turns, without a slash command. Loaded only in that mode, which needs the privileged message
content intent. Table talk starting with (( or // is not a turn, nor is anything said while the
story is paused; a refused turn is answered in a reply that removes itself."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord.ext import commands

from bot.discord.present import post, settle
from bot.discord.render import Out, auto_kept_note, next_writer_ping, no_mentions, notes
from bot.errors import NoActiveStory, StoryNotActive, UserFacingError

if TYPE_CHECKING:
    from bot.discord.client import StoryBot

OUT_OF_CHARACTER = ("((", "//", "OOC")
REFUSAL_SHOWN_S = 30.0
WRITTEN = "✍️"


class PlainMessages(commands.Cog):
    def __init__(self, bot: StoryBot) -> None:
        self.bot = bot

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        text = message.content.strip()
        if message.guild is None or message.author.bot or not text:
            return
        if text.startswith(OUT_OF_CHARACTER):
            return
        author = message.author
        try:
            result = await self.bot.engine.write(
                message.channel.id, author.id, author.display_name, text
            )
        except (NoActiveStory, StoryNotActive):
            return
        except UserFacingError as exc:
            await message.reply(
                str(exc), allowed_mentions=no_mentions(), delete_after=REFUSAL_SHOWN_S
            )
            return
        await message.add_reaction(WRITTEN)
        outs = []
        note = notes(auto_kept_note(result.auto_kept), *result.notices)
        if note:
            outs.append(Out(content=note))
        ping = next_writer_ping(result.story, author.id)
        if ping is not None:
            outs.append(ping)
        await post(self.bot, message.channel.id, outs)
        await settle(self.bot, result.auto_kept)


async def setup(bot: StoryBot) -> None:
    if bot.settings.plain_message_mode:
        await bot.add_cog(PlainMessages(bot))
