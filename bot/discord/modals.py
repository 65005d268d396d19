"""Modals: a long turn, and a character sheet over two modals with a Continue button between.

Discord allows five inputs per modal and 4,000 characters per input, so the sheet is split:
name, description, personality and speech style, then backstory, first message and tags. What
was typed stays in the flow until the sheet is saved, so a refused sheet can be fixed and sent
again without retyping it. A field longer than an input holds (an imported card's) is left out
of the modal and kept as it is.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import discord

from bot.discord.render import no_mentions
from bot.discord.tree import report_error

INPUT_LIMIT = 4000
FLOW_TIMEOUT_S = 900.0

TextSubmit = Callable[[discord.Interaction, str], Awaitable[None]]
SheetSubmit = Callable[[discord.Interaction, dict[str, str]], Awaitable[None]]


class WriteModal(discord.ui.Modal):
    """A turn too long for a slash command option."""

    def __init__(self, max_chars: int, submit: TextSubmit) -> None:
        super().__init__(title="Write your turn")
        self.text: discord.ui.TextInput[WriteModal] = discord.ui.TextInput(
            custom_id="text",
            style=discord.TextStyle.paragraph,
            max_length=min(max_chars, INPUT_LIMIT),
            placeholder="What happens next?",
        )
        self.add_item(discord.ui.Label(text="Your turn", component=self.text))
        self._submit = submit

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await self._submit(interaction, self.text.value)

    async def on_error(self, interaction: discord.Interaction, error: Exception) -> None:
        await report_error(interaction, error)


@dataclass(frozen=True, slots=True)
class Field:
    key: str
    label: str
    max_length: int
    paragraph: bool = True
    required: bool = False


PAGES: tuple[tuple[Field, ...], ...] = (
    (
        Field("name", "Name", 100, paragraph=False, required=True),
        Field("description", "Description", INPUT_LIMIT),
        Field("personality", "Personality", INPUT_LIMIT),
        Field("speech_style", "Speech style", 1000),
    ),
    (
        Field("backstory", "Backstory", INPUT_LIMIT),
        Field("first_message", "First message", INPUT_LIMIT),
        Field("tags", "Tags (comma-separated)", 1000, paragraph=False),
    ),
)


class SheetModal(discord.ui.Modal):
    def __init__(self, flow: SheetFlow, page: int) -> None:
        super().__init__(title=f"{flow.title[:38]} ({page + 1}/{len(PAGES)})")
        self.flow = flow
        self.page = page
        self.inputs: dict[str, discord.ui.TextInput[SheetModal]] = {}
        for field in PAGES[page]:
            value = flow.values.get(field.key, "")
            if len(value) > field.max_length:
                continue
            text_input: discord.ui.TextInput[SheetModal] = discord.ui.TextInput(
                custom_id=field.key,
                style=discord.TextStyle.paragraph if field.paragraph else discord.TextStyle.short,
                max_length=field.max_length,
                required=field.required,
                default=value or None,
            )
            self.inputs[field.key] = text_input
            self.add_item(discord.ui.Label(text=field.label, component=text_input))

    async def on_submit(self, interaction: discord.Interaction) -> None:
        self.flow.values.update({key: item.value for key, item in self.inputs.items()})
        await self.flow.page_done(interaction, self.page)

    async def on_error(self, interaction: discord.Interaction, error: Exception) -> None:
        await report_error(interaction, error)


class SheetFlow(discord.ui.View):
    """The private message between the two modals: Continue, or go back to page one."""

    def __init__(
        self, title: str, owner_id: int, values: Mapping[str, str], finish: SheetSubmit
    ) -> None:
        super().__init__(timeout=FLOW_TIMEOUT_S)
        self.title = title
        self.owner_id = owner_id
        self.values: dict[str, str] = dict(values)
        self._finish = finish

    def first_modal(self) -> SheetModal:
        return SheetModal(self, 0)

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        return interaction.user.id == self.owner_id

    @discord.ui.button(label="Continue", style=discord.ButtonStyle.primary)
    async def next_page(self, interaction: discord.Interaction, _: discord.ui.Button[Any]) -> None:
        await interaction.response.send_modal(SheetModal(self, 1))

    @discord.ui.button(label="Back to page 1", style=discord.ButtonStyle.secondary)
    async def first_page(self, interaction: discord.Interaction, _: discord.ui.Button[Any]) -> None:
        await interaction.response.send_modal(SheetModal(self, 0))

    async def page_done(self, interaction: discord.Interaction, page: int) -> None:
        if page + 1 < len(PAGES):
            text = (
                f"Page {page + 1} of {len(PAGES)} noted. Continue with the backstory, "
                "first message and tags."
            )
            if interaction.message is None:
                await interaction.response.send_message(
                    text, view=self, ephemeral=True, allowed_mentions=no_mentions()
                )
            else:
                await interaction.response.edit_message(
                    content=text, view=self, allowed_mentions=no_mentions()
                )
            return
        await self._finish(interaction, dict(self.values))
        self.stop()

    async def on_error(
        self, interaction: discord.Interaction, error: Exception, item: discord.ui.Item[Any]
    ) -> None:
        await report_error(interaction, error)
