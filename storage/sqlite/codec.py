"""Conversions between record values and SQLite column values."""

from __future__ import annotations

import json
import struct
from collections.abc import Sequence
from typing import Any


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
