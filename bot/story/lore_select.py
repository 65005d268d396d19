"""Which lore reaches the model: a pure function of the entries, the cast and the recent turns.

An entry is called for when it is constant or when one of its keys appears in the recent turns
as a whole word or phrase, ignoring case ("Door" matches "the door hums", not "doorway").
Characters in play count as lore: each is an entry keyed by its name whose text is its sheet
in prose; an entry of the lorebook that names the character (by name or key) stands in for it,
so one character never takes the budget twice. The speaker of a dialogue turn is always called
for. Called-for entries go in by priority (highest first; the story's book before the guild's
at equal priority, then characters), each whole while it fits in the character budget; the
ones that do not fit are reported as left out.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from storage.models import Character, ContextTurn, LoreEntry, Story
from storage.repositories import Storage

SCAN_TURNS = 8
"""Recent turns searched for keys."""
LORE_BUDGET_CHARS = 2400
"""Characters of lore text one request carries (memory apart)."""
MAX_SELECTED = 16
CHARACTER_PRIORITY = 100
"""Where a character's sheet ranks among lore entries (an entry's default priority)."""
CHARACTER_LORE_CHARS = 600

LoreSource = Literal["story", "guild", "character"]
_SOURCE_RANK: dict[str, int] = {"story": 0, "guild": 1, "character": 2}


@dataclass(frozen=True, slots=True)
class LoreItem:
    """One candidate for the context: a lorebook entry or a character in play."""

    name: str
    keys: tuple[str, ...]
    text: str
    priority: int
    source: LoreSource
    constant: bool = False


@dataclass(frozen=True, slots=True)
class LoreSelection:
    chosen: tuple[LoreItem, ...]
    """What goes into the context, in budget order (most important first)."""
    left_out: tuple[LoreItem, ...]
    """Called for, but over the budget."""
    waiting: tuple[LoreItem, ...]
    """Not called for by the recent turns."""


def entry_item(entry: LoreEntry) -> LoreItem:
    source: LoreSource = "guild" if entry.story_id is None else "story"
    return LoreItem(entry.name, entry.keys, entry.text, entry.priority, source, entry.constant)


def character_item(character: Character) -> LoreItem:
    """The character as lore: its name is the key, its sheet in prose the text."""
    parts = [character.description, character.personality, character.speech_style]
    prose = " ".join(part.strip() for part in parts if part.strip())
    text = f"{character.name}: {prose}" if prose else ""
    if len(text) > CHARACTER_LORE_CHARS:
        text = text[:CHARACTER_LORE_CHARS].rsplit(" ", 1)[0] + "…"
    return LoreItem(character.name, (character.name,), text, CHARACTER_PRIORITY, "character")


def select_lore(
    entries: Sequence[LoreEntry],
    characters: Sequence[Character],
    recent_texts: Sequence[str],
    *,
    speaker: str | None = None,
    budget_chars: int = LORE_BUDGET_CHARS,
    max_selected: int = MAX_SELECTED,
) -> LoreSelection:
    """The lore for one request; `recent_texts` are the turns to scan, oldest first."""
    items = _unique(entries, characters)
    scanned = "\n".join(recent_texts[-SCAN_TURNS:])
    called, waiting = [], []
    for item in items:
        spoken = speaker is not None and _names(item) & {speaker.casefold().strip()}
        if item.text and (item.constant or spoken or mentions(scanned, item.keys)):
            called.append(item)
        else:
            waiting.append(item)
    called.sort(key=lambda i: (-i.priority, _SOURCE_RANK[i.source], i.name.casefold()))
    chosen, left_out = [], []
    left = budget_chars
    for item in called:
        if len(item.text) <= left and len(chosen) < max_selected:
            chosen.append(item)
            left -= len(item.text)
        else:
            left_out.append(item)
    return LoreSelection(tuple(chosen), tuple(left_out), tuple(waiting))


def mentions(text: str, keys: Sequence[str]) -> bool:
    """Whether any key appears in `text` as a whole word or phrase, ignoring case."""
    words = [re.escape(key.strip()) for key in keys if key.strip()]
    if not words:
        return False
    pattern = r"(?<!\w)(?:" + "|".join(words) + r")(?!\w)"
    return re.search(pattern, text, re.IGNORECASE) is not None


def _unique(entries: Sequence[LoreEntry], characters: Sequence[Character]) -> list[LoreItem]:
    """The story's entries, the guild's not overridden by a story entry of the same name, and
    the characters no entry names."""
    story = [entry_item(e) for e in entries if e.story_id is not None]
    taken = {item.name.casefold() for item in story}
    guild = [
        entry_item(e) for e in entries if e.story_id is None and e.name.casefold() not in taken
    ]
    books = story + guild
    named = set().union(*(_names(item) for item in books)) if books else set()
    cast = [character_item(c) for c in characters if c.name.casefold().strip() not in named]
    return books + cast


def _names(item: LoreItem) -> set[str]:
    return {item.name.casefold().strip(), *(key.casefold().strip() for key in item.keys)}


async def read_lore(
    storage: Storage,
    story: Story,
    turns: Sequence[ContextTurn],
    characters: Sequence[Character],
    speaker: str | None,
) -> tuple[str, LoreSelection]:
    """The story's memory and the lore selected for a request that reads `turns`."""
    memory = await storage.lore.get_memory(story.id)
    entries = await storage.lore.list_for(story.guild_id, story.id)
    texts = [turn.text for turn in turns]
    return memory, select_lore(entries, characters, texts, speaker=speaker)
