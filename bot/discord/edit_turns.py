"""Editing a kept turn on Discord: `/story edit turn:N` with the new text, or without it a form
filled with the turn's text; the turn's message is then shown with its new text.

The engine checks who may edit (bot/story/editing.py) before the form opens, so someone who
may not edit the turn hears why at once rather than after typing.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord

from bot.discord.actor import Actor, story_bot
from bot.discord.modals import INPUT_LIMIT, TextSubmit
from bot.discord.render import Out, escape, notes, turn_embed
from bot.discord.tree import reply, report_error, think
from bot.story.results import TurnView

if TYPE_CHECKING:
    from bot.discord.story_client import StoryClient

log = logging.getLogger("talewright.discord")


class EditModal(discord.ui.Modal):
    """The turn's text, ready to change."""

    def __init__(self, turn: TurnView, max_chars: int, submit: TextSubmit) -> None:
        super().__init__(title=f"Edit turn #{turn.id}"[:45])
        limit = min(max_chars, INPUT_LIMIT)
        self.text: discord.ui.TextInput[EditModal] = discord.ui.TextInput(
            custom_id="text",
            style=discord.TextStyle.paragraph,
            max_length=limit,
            default=turn.text[:limit],
        )
        self.add_item(discord.ui.Label(text="The turn's text", component=self.text))
        self._submit = submit

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await self._submit(interaction, self.text.value)

    async def on_error(self, interaction: discord.Interaction, error: Exception) -> None:
        await report_error(interaction, error)


async def edit_command(interaction: discord.Interaction, turn_id: int, text: str | None) -> None:
    """With text, edit at once; without, open the form filled with the turn's text."""
    if text is not None:
        await apply_edit(interaction, turn_id, text)
        return
    actor, bot = Actor.of(interaction), story_bot(interaction)
    turn = await bot.engine.editable_turn(
        turn_id,
        actor.user_id,
        is_moderator=actor.is_moderator,
        guild_id=actor.guild_id,
        place_id=actor.place_id,
    )

    async def submit(modal_interaction: discord.Interaction, typed: str) -> None:
        await apply_edit(modal_interaction, turn_id, typed)

    await interaction.response.send_modal(EditModal(turn, bot.settings.max_turn_chars, submit))


async def apply_edit(interaction: discord.Interaction, turn_id: int, text: str) -> None:
    actor, bot = Actor.of(interaction), story_bot(interaction)
    await think(interaction)
    result = await bot.engine.edit_turn(
        turn_id,
        actor.user_id,
        text,
        user_name=actor.name,
        is_moderator=actor.is_moderator,
        guild_id=actor.guild_id,
        place_id=actor.place_id,
    )
    await refresh_shown(bot, result.turn)
    said = f"**{escape(actor.name)}** edited turn #{result.turn.id}; /story show has its history."
    await reply(interaction, [Out(content=notes(said, *result.notices))])


async def refresh_shown(bot: StoryClient, turn: TurnView) -> None:
    """Show the turn's message with its current text, where the bot knows which it is."""
    shown = bot.board.where(turn.id)
    if shown is None:
        return
    message = bot.get_partial_messageable(shown.channel_id).get_partial_message(shown.message_id)
    try:
        await message.edit(embeds=[turn_embed(turn)])
    except discord.HTTPException as exc:
        log.info("could not update the message of edited turn %s: %s", turn.id, exc)
