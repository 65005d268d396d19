"""Persistent buttons: Keep / Reroll / ◀ / ▶ / Twist under a pending turn and ◀ ▶ pages of
`/story show`, what each click does, and the turn's message they sit under.

Each button is a `DynamicItem` whose custom id (bot/discord/custom_ids.py) carries what it acts
on, and the bot registers the classes at start, so buttons on any message keep working after a
restart: nothing about them lives in memory.

Every click first notes which message shows the clicked turn, so the bot can update that
message later even when it was posted before a restart. A button names only its turn, so each
action tells the engine the guild and the channel or thread it was pressed in: a turn of
another story is refused there.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import discord

from bot.discord.actor import Actor, story_bot
from bot.discord.custom_ids import (
    PAGE_TEMPLATE,
    TURN_TEMPLATE,
    page_custom_id,
    turn_custom_id,
)
from bot.discord.present import settle
from bot.discord.render import (
    Out,
    auto_kept_note,
    next_writer_ping,
    notes,
    story_page,
    turn_embed,
)
from bot.discord.tree import reply, report_error, think
from bot.story.results import StoryInfo, StoryPage, TurnView, VoteTally

TurnAction = Callable[[discord.Interaction, int], Awaitable[None]]
PAGE_SIZE = 5
"""Turns per page of `/story show`: five long turns still fit one embed."""
LABELS = {"keep": "Keep", "reroll": "Reroll", "prev": "◀", "next": "▶", "twist": "Twist"}
STYLES = {
    "keep": discord.ButtonStyle.success,
    "reroll": discord.ButtonStyle.primary,
    "prev": discord.ButtonStyle.secondary,
    "next": discord.ButtonStyle.secondary,
    "twist": discord.ButtonStyle.danger,
}


class TurnButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=TURN_TEMPLATE):
    def __init__(
        self, action: str, turn_id: int, *, label: str | None = None, disabled: bool = False
    ) -> None:
        super().__init__(
            discord.ui.Button(
                label=label or LABELS[action],
                style=STYLES[action],
                custom_id=turn_custom_id(action, turn_id),
                disabled=disabled,
            )
        )
        self.action = action
        self.turn_id = turn_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button[Any], match: re.Match[str]
    ) -> TurnButton:
        return cls(match["action"], int(match["turn"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            await ON_CLICK[self.action](interaction, self.turn_id)
        except Exception as exc:
            await report_error(interaction, exc)


class PageButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=PAGE_TEMPLATE):
    def __init__(self, story_id: int, page: int, label: str, *, disabled: bool = False) -> None:
        super().__init__(
            discord.ui.Button(
                label=label,
                style=discord.ButtonStyle.secondary,
                custom_id=page_custom_id(story_id, page),
                disabled=disabled,
            )
        )
        self.story_id = story_id
        self.page = page

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button[Any], match: re.Match[str]
    ) -> PageButton:
        return cls(int(match["story"]), int(match["page"]), item.label or "")

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            await show_page(interaction, self.story_id, self.page)
        except Exception as exc:
            await report_error(interaction, exc)


def turn_buttons(turn: TurnView, votes: VoteTally | None = None) -> discord.ui.View:
    """The buttons under a pending turn; ◀ ▶ are off at the ends of its alternatives, and a
    running reroll vote shows its count on the Reroll button."""
    view = discord.ui.View(timeout=None)
    reroll = f"Reroll · {votes.votes}/{votes.eligible} votes" if votes else None
    view.add_item(TurnButton("keep", turn.id))
    view.add_item(TurnButton("reroll", turn.id, label=reroll))
    view.add_item(TurnButton("prev", turn.id, disabled=turn.alt_index <= 1))
    view.add_item(TurnButton("next", turn.id, disabled=turn.alt_index >= turn.alt_count))
    view.add_item(TurnButton("twist", turn.id))
    return view


def page_buttons(page: StoryPage) -> discord.ui.View | None:
    if page.pages <= 1:
        return None
    view = discord.ui.View(timeout=None)
    story = page.story.id
    view.add_item(PageButton(story, page.page - 1, "◀", disabled=page.page <= 1))
    view.add_item(PageButton(story, page.page + 1, "▶", disabled=page.page >= page.pages))
    return view


def turn_out(turn: TurnView, *lines: str | None) -> Out:
    """A turn's message: pending turns carry Keep / Reroll / swipe / Twist buttons."""
    view = turn_buttons(turn) if turn.pending else None
    return Out(content=notes(*lines), embeds=[turn_embed(turn)], view=view)


async def show_turn(
    interaction: discord.Interaction,
    story: StoryInfo,
    turn: TurnView,
    *,
    auto_kept: TurnView | None = None,
    notices: Sequence[str] = (),
) -> None:
    """Answer with the turn, ping whoever writes next, and settle the turn it moved past."""
    bot = story_bot(interaction)
    outs = [turn_out(turn, auto_kept_note(auto_kept), *notices)]
    ping = next_writer_ping(story, interaction.user.id)
    if ping is not None:
        outs.append(ping)
    sent = await reply(interaction, outs)
    if sent:
        bot.board.remember(turn.id, sent[0].channel.id, sent[0].id)
    await settle(bot, auto_kept)


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


ON_CLICK: dict[str, TurnAction] = {
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
