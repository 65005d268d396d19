"""What the memory and lorebook operations return to the front ends."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

LoreScope = Literal["story", "server"]
LoreStatus = Literal["in context", "waiting for a key", "left out: over the budget", ""]


@dataclass(frozen=True, slots=True)
class LoreView:
    name: str
    scope: LoreScope
    keys: tuple[str, ...]
    text: str
    constant: bool
    priority: int
    status: LoreStatus = ""
    """Where the entry stands for the next model turn of the story here ("" outside one)."""


@dataclass(frozen=True, slots=True)
class LoreResult:
    entry: LoreView
    notices: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class LoreRemoved:
    name: str
    scope: LoreScope


@dataclass(frozen=True, slots=True)
class LoreListing:
    story_id: int | None
    memory: str
    entries: tuple[LoreView, ...]
    """The server's book, then the story's, each by name."""
    characters_in_context: tuple[str, ...] = ()
    characters_left_out: tuple[str, ...] = ()
    """Characters in play called for by the recent turns but over the lore budget."""


@dataclass(frozen=True, slots=True)
class MemoryResult:
    story_id: int
    text: str
    notices: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class LoreImported:
    scope: LoreScope
    added: int
    replaced: int
    skipped: int
    notices: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class LoreFile:
    filename: str
    data: bytes
    count: int
