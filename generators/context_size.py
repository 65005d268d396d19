"""How much story text a generation request may carry: one limit and one way of counting it,
shared by the service that refuses a larger context and the engine that budgets to fit it."""

from __future__ import annotations

from generators.schemas import CharacterSheet, StoryContext

MAX_CONTEXT_CHARS = 20_000
"""Characters of free text (see `context_chars`) a service accepts by default; the engine
budgets every request to this unless told of a smaller limit."""


def sheet_chars(sheet: CharacterSheet) -> int:
    return (
        len(sheet.name)
        + len(sheet.description)
        + len(sheet.personality)
        + len(sheet.speech_style)
        + len(sheet.backstory)
    )


def context_chars(context: StoryContext) -> int:
    """Characters of free text in a context: title, premise, theme, turns, character sheets,
    style hints (names and values as written), memory and lore."""
    sheets = sum(sheet_chars(c) for c in context.characters)
    turns = sum(len(t.text) for t in context.turns)
    hints = sum(len(name) + len(str(value)) for name, value in context.style_hints.items())
    text = len(context.title) + len(context.premise) + len(context.theme or "")
    lore = len(context.memory) + sum(len(entry) for entry in context.lore)
    return text + turns + sheets + hints + lore
