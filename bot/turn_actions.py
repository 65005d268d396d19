"""What the persistent buttons do: keep, reroll (or vote for it), swipe between alternatives,
ask for a twist, and turn the pages of `/story show`.

Every click first notes which message shows the clicked turn, so the bot can update that
message later even when it was posted before a restart. A button names only its turn, so each
action tells the engine the guild and the channel or thread it was pressed in: a turn of
another story is refused there.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import discord

from bot.actor import Actor, story_bot
from bot.present import show_turn, turn_out
from bot.render import Out, story_page, turn_embed
from bot.tree import reply, think
from bot.views import page_buttons, turn_buttons

TurnAction = Callable[[discord.Interaction, int], Awaitable[None]]
PAGE_SIZE = 5
"""Turns per page of `/story show`: five long turns still fit one embed."""


def _note_clicked(interaction: discord.Interaction, turn_id: int) -> None:
    if interaction.message is not None and interaction.channel_id is not None:
        story_bot(interaction).board.remember(
            turn_id, interaction.channel_id, interaction.message.id
        )


async def keep(interaction: discord.Interaction, turn_id: int) -> None:
    actor, bot = Actor.of(interaction), story_bot(interaction)
    result = await bot.engine.keep(
        turn_id,
        actor.user_id,
        is_moderator=actor.is_moderator,
        guild_id=actor.guild_id,
        place_id=actor.place_id,
    )
    await interaction.response.edit_message(**turn_out(result.turn).edit_kwargs())
    bot.board.forget(turn_id)


async def reroll(interaction: discord.Interaction, turn_id: int) -> None:
    """Another alternative in place of this one, or a vote counted towards it."""
    actor, bot = Actor.of(interaction), story_bot(interaction)
    _note_clicked(interaction, turn_id)
    async with bot.cooldowns.claim(actor.user_id, actor.place_id, actor.guild_id):
        await interaction.response.defer()
        result = await bot.engine.reroll(
            turn_id,
            actor.user_id,
            user_name=actor.name,
            is_moderator=actor.is_moderator,
            guild_id=actor.guild_id,
            place_id=actor.place_id,
        )
    votes = result.votes
    if votes is not None and not result.rerolled:
        shown = Out(embeds=[turn_embed(result.turn)], view=turn_buttons(result.turn, votes))
        await reply(interaction, [shown])
        window = bot.engine.options.reroll_vote_window_s
        counted = (
            f"Your vote to reroll counts: {votes.votes}/{votes.eligible} votes, "
            f"{votes.needed} needed within {window:g} s."
        )
        await reply(interaction, [Out(content=counted)], private=True)
        return
    passed = f"Reroll vote passed ({votes.votes}/{votes.eligible} votes)." if votes else None
    await reply(interaction, [turn_out(result.turn, passed, *result.notices)])
    if interaction.message is not None and interaction.channel_id is not None:
        bot.board.remember(result.turn.id, interaction.channel_id, interaction.message.id)


async def _swipe(interaction: discord.Interaction, turn_id: int, step: int) -> None:
    actor, bot = Actor.of(interaction), story_bot(interaction)
    result = await bot.engine.swipe(
        turn_id,
        actor.user_id,
        step,
        is_moderator=actor.is_moderator,
        guild_id=actor.guild_id,
        place_id=actor.place_id,
    )
    await interaction.response.edit_message(**turn_out(result.turn).edit_kwargs())
    _note_clicked(interaction, result.turn.id)
    if result.notices:
        await reply(interaction, [Out(content="\n".join(result.notices))], private=True)


async def previous(interaction: discord.Interaction, turn_id: int) -> None:
    await _swipe(interaction, turn_id, -1)


async def following(interaction: discord.Interaction, turn_id: int) -> None:
    await _swipe(interaction, turn_id, 1)


async def twist(interaction: discord.Interaction, turn_id: int) -> None:
    """A plot twist as the next turn; the turn shown here is kept as the story moves on."""
    actor, bot = Actor.of(interaction), story_bot(interaction)
    _note_clicked(interaction, turn_id)
    async with bot.cooldowns.claim(actor.user_id, actor.place_id, actor.guild_id):
        await think(interaction)
        result = await bot.engine.ai_turn(
            actor.place_id, actor.user_id, "twist", user_name=actor.name
        )
    await show_turn(
        interaction, result.story, result.turn, auto_kept=result.auto_kept, notices=result.notices
    )


TURN_ACTIONS: dict[str, TurnAction] = {
    "keep": keep,
    "reroll": reroll,
    "prev": previous,
    "next": following,
    "twist": twist,
}


async def show_page(interaction: discord.Interaction, story_id: int, page: int) -> None:
    actor, bot = Actor.of(interaction), story_bot(interaction)
    result = await bot.engine.show(
        story_id=story_id,
        guild_id=actor.guild_id,
        page=page,
        page_size=PAGE_SIZE,
        can_view=actor.can_view,
    )
    await interaction.response.edit_message(embeds=[story_page(result)], view=page_buttons(result))
