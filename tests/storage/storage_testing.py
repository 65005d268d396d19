"""Helpers shared by the storage tests (imported by name; conftest holds only fixtures)."""

from __future__ import annotations

from typing import Any

from storage.models import TurnDraft


class FakeClock:
    """Unix time that moves only when a test says so."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def user_turn(text: str, author_id: int = 30, **fields: Any) -> TurnDraft:
    return TurnDraft(
        author_kind="user", text=text, author_id=author_id, author_name="Ann", **fields
    )


def model_turn(text: str, asked_by: int = 30, **fields: Any) -> TurnDraft:
    return TurnDraft(
        author_kind="model", text=text, author_id=asked_by, model_id="lstm-v1", **fields
    )
