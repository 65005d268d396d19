"""Persistent buttons: Keep / Reroll / ◀ / ▶ / Twist under a pending turn, and ◀ ▶ pages of
`/story show`.

Each button is a `DynamicItem` whose custom id carries what it acts on (`tw:keep:<turn_id>`,
`tw:page:<story_id>:<page>`), and the bot registers the classes at start, so buttons on any
message keep working after a restart: nothing about them lives in memory. A click is handed
to the bot (`bot.turn_actions`, `bot.page_action`), which keeps this module free of the engine.
"""

from __future__ import annotations

import re
from typing import Any

import discord

from bot.actor import story_bot
from bot.story.results import StoryPage, TurnView, VoteTally
from bot.tree import report_error

TURN_ACTIONS = ("keep", "reroll", "prev", "next", "twist")
TURN_TEMPLATE = rf"tw:(?P<action>{'|'.join(TURN_ACTIONS)}):(?P<turn>[0-9]{{1,20}})"
PAGE_TEMPLATE = r"tw:page:(?P<story>[0-9]{1,20}):(?P<page>[0-9]{1,9})"
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
                custom_id=f"tw:{action}:{turn_id}",
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
            await story_bot(interaction).turn_actions[self.action](interaction, self.turn_id)
        except Exception as exc:
            await report_error(interaction, exc)


class PageButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=PAGE_TEMPLATE):
    def __init__(self, story_id: int, page: int, label: str, *, disabled: bool = False) -> None:
        super().__init__(
            discord.ui.Button(
                label=label,
                style=discord.ButtonStyle.secondary,
                custom_id=f"tw:page:{story_id}:{page}",
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
            await story_bot(interaction).page_action(interaction, self.story_id, self.page)
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
