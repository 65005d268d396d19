"""From stored records to the StoryContext of a generation request.

The wire contract caps every field; stored text may be longer (an imported character card, an
old turn), so values are cut to fit here rather than failing the request.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache

from generators.schemas import CharacterSheet, StoryContext, TurnContext
from storage.models import Character, ContextTurn, Story

MAX_CONTEXT_TURNS = 200
MAX_CONTEXT_CHARACTERS = 25


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
) -> StoryContext:
    """The context for the next turn of `story`, given its latest turns (oldest first).

    When there are more characters than a request can carry, the speaker is kept; a style
    vector longer than the contract allows is left out rather than cut into a meaningless one.
    """
    cast = list(characters)
    if len(cast) > MAX_CONTEXT_CHARACTERS:
        spoken = [c for c in cast if speaker and c.name.casefold() == speaker.casefold()]
        others = [c for c in cast if c not in spoken]
        cast = spoken + others[: MAX_CONTEXT_CHARACTERS - len(spoken)]
    return StoryContext(
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
    )
