"""Forms for lore: an entry (name, keys, text, priority) and the story's memory.

The engine checks and moderates a submitted form whole before it stores anything, so a
refused form changes nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

import discord

from bot.discord.tree import report_error
from generators.schemas import MAX_LORE_CHARS, MAX_MEMORY_CHARS

FormSubmit = Callable[[discord.Interaction, dict[str, str]], Awaitable[None]]
FIELDS = (
    ("name", "Name", 100, discord.TextStyle.short, True),
    ("keys", "Keys (comma-separated words or names)", 1000, discord.TextStyle.short, False),
    ("text", "Text the model reads", MAX_LORE_CHARS, discord.TextStyle.paragraph, True),
    ("priority", "Priority (higher goes in first)", 6, discord.TextStyle.short, False),
)


class LoreModal(discord.ui.Modal):
    """One lore entry; `values` fill the inputs when an entry is edited."""

    def __init__(self, title: str, values: Mapping[str, str], submit: FormSubmit) -> None:
        super().__init__(title=title)
        self.inputs: dict[str, discord.ui.TextInput[LoreModal]] = {}
        for key, label, most, style, required in FIELDS:
            text_input: discord.ui.TextInput[LoreModal] = discord.ui.TextInput(
                custom_id=key,
                style=style,
                max_length=most,
                required=required,
                default=values.get(key) or None,
            )
            self.inputs[key] = text_input
            self.add_item(discord.ui.Label(text=label, component=text_input))
        self._submit = submit

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await self._submit(interaction, {key: box.value for key, box in self.inputs.items()})

    async def on_error(self, interaction: discord.Interaction, error: Exception) -> None:
        await report_error(interaction, error)


class MemoryModal(discord.ui.Modal):
    """The story's memory; empty clears it."""

    def __init__(self, current: str, submit: Callable[[discord.Interaction, str], Awaitable[None]]):
        super().__init__(title="Story memory")
        self.text: discord.ui.TextInput[MemoryModal] = discord.ui.TextInput(
            custom_id="memory",
            style=discord.TextStyle.paragraph,
            max_length=MAX_MEMORY_CHARS,
            required=False,
            default=current or None,
            placeholder="What the model should always remember about this story.",
        )
        self.add_item(discord.ui.Label(text="Memory", component=self.text))
        self._submit = submit

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await self._submit(interaction, self.text.value)

    async def on_error(self, interaction: discord.Interaction, error: Exception) -> None:
        await report_error(interaction, error)
