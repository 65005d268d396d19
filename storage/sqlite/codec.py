"""Conversions between record values and SQLite column values."""

from __future__ import annotations

import json
import struct
import unicodedata
from collections.abc import Sequence
from typing import Any, Protocol


class Row(Protocol):
    """A result row read by column name: sqlite3.Row and asyncpg.Record are both one, so the
    PostgreSQL repositories build their records with the SQLite converters."""

    def __getitem__(self, key: str, /) -> Any: ...


def to_json(value: Any) -> str:
    """Compact JSON that keeps non-ASCII text readable in the database."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def from_json(text: str | None, default: Any = None) -> Any:
    return default if text is None else json.loads(text)


def pack_vector(values: Sequence[float]) -> bytes:
    """float64, little-endian: a running mean kept in float32 would drift with update order."""
    return struct.pack(f"<{len(values)}d", *values)


def unpack_vector(blob: bytes) -> tuple[float, ...]:
    return struct.unpack(f"<{len(blob) // 8}d", blob)


def name_key(name: str) -> str:
    """How names compare: Unicode-aware, ignoring case and surrounding spaces."""
    return unicodedata.normalize("NFKC", name).casefold().strip()


def checked_name_key(name: str, what: str) -> str:
    """The name's key; ValueError naming `what` when the name is blank."""
    key = name_key(name)
    if not key:
        raise ValueError(f"{what} needs a name that is not blank")
    return key


def string_list_json(values: Sequence[str], what: str) -> str:
    """A list of strings as JSON; ValueError naming `what` for a lone string (which would
    otherwise be stored letter by letter)."""
    if isinstance(values, str):
        raise ValueError(f"{what} must be a list of strings, not one string")
    return to_json([str(value) for value in values])
