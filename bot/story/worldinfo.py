"""SillyTavern World Info (lorebook) JSON import and export.

The file is `{"entries": {"0": {"uid": 0, "key": [...], "keysecondary": [], "comment": "...",
"content": "...", "constant": false, "order": 100, "disable": false, ...}}}`; `entries` may
also be a list. Talewright uses `comment` as the entry's name (the first key when it is blank),
`key`, `content`, `constant` and `order` (its priority); disabled and empty entries are skipped.

Lorebooks come from strangers, like character cards, and are read with the same bounds: the
bytes, the nesting (bot.story.cards), and here also the number of entries, keys and characters.
The caller moderates every string the file holds (bot.story.card_checks) before storing.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.errors import InvalidInput
from bot.story.cards import MAX_CARD_DEPTH, MAX_CARD_JSON_BYTES, card_texts
from bot.story.cards import _depth as nesting_depth
from bot.story.text import clean_text
from generators.schemas import MAX_LORE_CHARS
from storage.models import LoreDraft, LoreEntry

MAX_BOOK_BYTES = MAX_CARD_JSON_BYTES
MAX_BOOK_ENTRIES = 200
"""Entries a book (a guild's, or a story's) may hold, and so an import may bring."""
MAX_KEYS = 20
KEY_CHARS = 100
NAME_CHARS = 100
PRIORITY_RANGE = (-10_000, 10_000)


@dataclass(frozen=True, slots=True)
class ImportedBook:
    drafts: tuple[LoreDraft, ...]
    texts: tuple[str, ...]
    """Every string in the file, keys included: what moderation must see."""
    skipped: int
    """Disabled or empty entries."""


def read_world_info(data: bytes) -> ImportedBook:
    """Parse a World Info file; InvalidInput says what is wrong with a bad one."""
    if len(data) > MAX_BOOK_BYTES:
        raise InvalidInput(
            f"That lorebook is too large ({len(data):,} bytes; the limit is {MAX_BOOK_BYTES:,})."
        )
    book = _parse(data)
    if nesting_depth(book) > MAX_CARD_DEPTH:
        raise InvalidInput(_too_deep())
    entries = book.get("entries") if isinstance(book, dict) else None
    if isinstance(entries, dict):
        entries = list(entries.values())
    if not isinstance(entries, list):
        raise InvalidInput(
            "That is not a SillyTavern World Info file: it needs an `entries` object."
        )
    if len(entries) > MAX_BOOK_ENTRIES:
        raise InvalidInput(
            f"That lorebook has {len(entries):,} entries; a book holds at most {MAX_BOOK_ENTRIES}."
        )
    drafts: list[LoreDraft] = []
    taken: set[str] = set()
    for index, raw in enumerate(entries):
        draft = _draft(raw, index)
        if draft is None:
            continue
        draft = _unique_name(draft, taken)
        taken.add(draft.name.casefold())
        drafts.append(draft)
    return ImportedBook(tuple(drafts), card_texts(book), len(entries) - len(drafts))


def world_info_bytes(entries: Sequence[LoreEntry]) -> bytes:
    """The entries as a World Info file SillyTavern imports."""
    book = {
        "entries": {
            str(uid): {
                "uid": uid,
                "key": list(entry.keys),
                "keysecondary": [],
                "comment": entry.name,
                "content": entry.text,
                "constant": entry.constant,
                "selective": False,
                "order": entry.priority,
                "position": 0,
                "disable": False,
            }
            for uid, entry in enumerate(entries)
        }
    }
    return json.dumps(book, ensure_ascii=False, indent=2).encode("utf-8") + b"\n"


def _parse(data: bytes) -> Any:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput("That lorebook is not UTF-8 JSON text.") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            f"That lorebook is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})."
        ) from exc
    except RecursionError as exc:
        raise InvalidInput(_too_deep()) from exc
    except ValueError as exc:  # an integer of more digits than Python converts
        raise InvalidInput(
            "That lorebook has a number too long to read "
            f"(over {sys.get_int_max_str_digits():,} digits)."
        ) from exc


def _too_deep() -> str:
    return f"That lorebook is not valid: it is nested more than {MAX_CARD_DEPTH} levels deep."


def _draft(raw: object, index: int) -> LoreDraft | None:
    where = f"Lorebook entry {index + 1}"
    if not isinstance(raw, dict):
        raise InvalidInput(f"{where} is not an object.")
    content = _field(raw, "content", str, "", where)
    if _field(raw, "disable", bool, False, where) or not content.strip():
        return None
    keys = _field(raw, "key", list, [], where)
    if not all(isinstance(key, str) for key in keys):
        raise InvalidInput(f"{where}: `key` must be a list of text.")
    keys = [key.strip() for key in keys if key.strip()]
    if len(keys) > MAX_KEYS or any(len(key) > KEY_CHARS for key in keys):
        raise InvalidInput(
            f"{where} has too many or too long keys "
            f"(at most {MAX_KEYS}, {KEY_CHARS} characters each)."
        )
    constant = _field(raw, "constant", bool, False, where)
    if not keys and not constant:
        return None
    name = _field(raw, "comment", str, "", where).strip() or (
        keys[0] if keys else f"Entry {index + 1}"
    )
    order = _field(raw, "order", int, 100, where)
    low, high = PRIORITY_RANGE
    return LoreDraft(
        name=clean_text(name[:NAME_CHARS], NAME_CHARS, f"{where}'s name", single_line=True).text,
        keys=tuple(
            clean_text(key, KEY_CHARS, f"{where}'s key", single_line=True).text for key in keys
        ),
        text=clean_text(content, MAX_LORE_CHARS, f"{where}'s content").text,
        constant=constant,
        priority=max(low, min(high, order)),
    )


def _field(raw: dict[str, Any], name: str, kind: type, default: Any, where: str) -> Any:
    value = raw.get(name, default)
    if value is None:
        return default
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise InvalidInput(f"{where}: `{name}` must be {_KIND_NAMES[kind]}.")
    return value


_KIND_NAMES = {str: "text", bool: "true or false", int: "a whole number", list: "a list"}


def _unique_name(draft: LoreDraft, taken: set[str]) -> LoreDraft:
    name, number = draft.name, 2
    while name.casefold() in taken:
        name = f"{draft.name[: NAME_CHARS - 6]} ({number})"
        number += 1
    return LoreDraft(name, draft.keys, draft.text, draft.constant, draft.priority)
