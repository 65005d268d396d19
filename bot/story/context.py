"""From stored records to the StoryContext of a generation request.

The wire contract caps every field; stored text may be longer (an imported character card, an
old turn), so values are cut to fit here rather than failing the request. The whole context is
budgeted to the characters a generator accepts (generators.context_size), newest turns first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache

from generators.context_size import MAX_CONTEXT_CHARS, context_chars, sheet_chars
from generators.schemas import (
    MAX_LORE_CHARS,
    MAX_LORE_ENTRIES,
    MAX_MEMORY_CHARS,
    CharacterSheet,
    StoryContext,
    TurnContext,
)
from storage.models import Character, ContextTurn, Story

MAX_CONTEXT_TURNS = 200
MAX_CONTEXT_CHARACTERS = 25
PREMISE_SHARE = 10
"""A context that must be cut keeps at most 1/PREMISE_SHARE of its budget for the premise."""
SHEETS_SHARE = 4
"""... and at least 1/SHEETS_SHARE for character sheets (more when the turns leave it free)."""
LORE_SHARE = 4
"""... and at most 1/LORE_SHARE for the memory and lore, the most important entries first."""
SHEET_FIELDS = ("description", "personality", "speech_style", "backstory")
"""A sheet's fields in the order the model reads them
(generators.inference.prompts.premise_keywords)."""


def character_sheet(character: Character) -> CharacterSheet:
    return CharacterSheet(
        name=character.name[:100],
        description=character.description[:2000],
        personality=character.personality[:2000],
        speech_style=character.speech_style[:1000],
        backstory=character.backstory[:4000],
    )


TURN_CACHE_SIZE = 4096
"""Turns kept built: every AI turn sends the story's latest 50, of which at most a few are new
since the last request; building all 50 again cost a fifth of a model turn's CPU time."""


def turn_context(turn: ContextTurn) -> TurnContext:
    """A turn as the model sees it; a long text keeps its end, which the next turn follows."""
    return _turn_context(
        turn.author_kind, turn.author_name, turn.character_name, turn.kind, turn.text
    )


@lru_cache(maxsize=TURN_CACHE_SIZE)
def _turn_context(
    author_kind: str, author_name: str, character_name: str | None, kind: str, text: str
) -> TurnContext:
    """Keyed by every input of the result, so a turn whose text or names change is built again."""
    author = author_name if author_kind == "user" else ""
    return TurnContext(
        author=author[:100],
        text=text[-4000:],
        character=character_name[:100] if character_name else None,
        kind=kind,
    )


def build_context(
    story: Story,
    turns: Sequence[ContextTurn],
    characters: Sequence[Character],
    *,
    speaker: str | None = None,
    theme: str | None = None,
    style_vector: Sequence[float] | None = None,
    style_hints: Mapping[str, str | float | int] | None = None,
    max_chars: int = MAX_CONTEXT_CHARS,
    memory: str = "",
    lore: Sequence[str] = (),
) -> StoryContext:
    """The context for the next turn of `story`, given its latest turns (oldest first).

    When there are more characters than a request can carry, the speaker is kept; a style
    vector longer than the contract allows is left out rather than cut into a meaningless one.
    The free text is budgeted to `max_chars` as the generator counts it (`context_chars`), so
    a long story is never refused: see `fit_budget`. `lore` is the selected entries' texts,
    most important first (bot.story.lore_select).
    """
    cast = list(characters)
    if len(cast) > MAX_CONTEXT_CHARACTERS:
        spoken = [c for c in cast if speaker and c.name.casefold() == speaker.casefold()]
        others = [c for c in cast if c not in spoken]
        cast = spoken + others[: MAX_CONTEXT_CHARACTERS - len(spoken)]
    context = StoryContext(
        genre=story.genre,
        mood=story.mood,
        title=story.title[:200],
        premise=story.premise[:2000],
        turns=[turn_context(turn) for turn in turns[-MAX_CONTEXT_TURNS:]],
        characters=[character_sheet(character) for character in cast],
        speaker=speaker[:100] if speaker else None,
        theme=theme[:300] if theme else None,
        style_vector=list(style_vector) if style_vector and len(style_vector) <= 1024 else None,
        style_hints=dict(style_hints or {}),
        memory=memory[:MAX_MEMORY_CHARS],
        lore=[text[:MAX_LORE_CHARS] for text in lore[:MAX_LORE_ENTRIES]],
    )
    return fit_budget(context, max_chars)


def fit_budget(context: StoryContext, max_chars: int) -> StoryContext:
    """`context` cut to at most `max_chars` characters of free text, or as it is if it fits.

    What the model follows most closely goes last: the title and theme stay as they are; the
    premise keeps its start, at most a tenth of the budget, and so does the memory; lore
    entries, most important first, take at most a quarter of what is left, each whole or not
    at all; character sheets (the speaker's
    first) keep at least a quarter of it, each its name and the start of its fields in the
    order the model reads them; the turns get the rest, newest first (the newest keeps its end
    if it alone is too long), so the oldest are the ones left out.
    """
    if context_chars(context) <= max_chars:
        return context
    fixed = len(context.title) + len(context.theme or "")
    premise = context.premise[: max(0, min(max_chars // PREMISE_SHARE, max_chars - fixed))]
    room = max(0, max_chars - fixed - len(premise))
    memory = context.memory[: min(max_chars // PREMISE_SHARE, room)]
    room -= len(memory)
    lore = fit_lore(context.lore, room // LORE_SHARE)
    room -= sum(len(text) for text in lore)
    wanted = sum(len(turn.text) for turn in context.turns)
    sheets = fit_sheets(
        context.characters, context.speaker, max(room // SHEETS_SHARE, room - wanted)
    )
    turns = newest_turns(context.turns, room - sum(sheet_chars(s) for s in sheets))
    return context.model_copy(
        update={
            "premise": premise,
            "memory": memory,
            "lore": lore,
            "characters": sheets,
            "turns": turns,
        }
    )


def fit_lore(texts: Sequence[str], room: int) -> list[str]:
    """The lore texts that fit in `room` characters, in order; one too long is left out whole
    (half an entry misleads more than none), and a later, shorter one may still fit."""
    kept: list[str] = []
    left = room
    for text in texts:
        if len(text) <= left:
            kept.append(text)
            left -= len(text)
    return kept


def fit_sheets(
    sheets: Sequence[CharacterSheet], speaker: str | None, room: int
) -> list[CharacterSheet]:
    """Sheets cut to `room` characters in all: each takes a fair share of what the ones before
    it left (the speaker's first); one whose name does not fit its share is left out."""
    spoken = {
        i for i, s in enumerate(sheets) if speaker and s.name.casefold() == speaker.casefold()
    }
    order = sorted(range(len(sheets)), key=lambda i: i not in spoken)
    kept: dict[int, CharacterSheet] = {}
    left = room
    for done, index in enumerate(order):
        share = left // (len(order) - done)
        if len(sheets[index].name) <= share:
            kept[index] = cut_sheet(sheets[index], share)
            left -= sheet_chars(kept[index])
    return [kept[index] for index in sorted(kept)]


def cut_sheet(sheet: CharacterSheet, room: int) -> CharacterSheet:
    """The sheet in `room` characters: its name, then the start of each field in turn."""
    if sheet_chars(sheet) <= room:
        return sheet
    left = room - len(sheet.name)
    cut: dict[str, str] = {}
    for name in SHEET_FIELDS:
        value = getattr(sheet, name)[: max(0, left)]
        cut[name] = value
        left -= len(value)
    return sheet.model_copy(update=cut)


def newest_turns(turns: Sequence[TurnContext], room: int) -> list[TurnContext]:
    """The newest turns that fit in `room` characters, oldest first; the newest alone keeps
    its end when it is longer than `room`, and an older turn that does not fit ends the run."""
    kept: list[TurnContext] = []
    left = room
    for turn in reversed(turns):
        if len(turn.text) > left:
            if not kept and left > 0:
                kept.append(turn.model_copy(update={"text": turn.text[-left:]}))
            break
        kept.append(turn)
        left -= len(turn.text)
    kept.reverse()
    return kept
