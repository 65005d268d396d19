"""Stored turns as the model sees them: what is cut, and that a built turn cannot change."""

from __future__ import annotations

import pydantic
import pytest

from bot.story.context import turn_context
from storage.models import ContextTurn


def test_a_turn_is_cut_to_the_contract_keeping_its_end() -> None:
    long = "a" * 10 + "b" * 4000
    built = turn_context(ContextTurn(3, "user", "Ann" * 50, "Mira" * 40, "dialogue", long))
    assert built.text == "b" * 4000
    assert len(built.author) == 100 and len(built.character or "") == 100
    assert built.kind == "dialogue"


def test_model_turns_carry_no_author_name() -> None:
    built = turn_context(ContextTurn(0, "model", "Ann", None, "narration", "Rain fell."))
    assert built.author == "" and built.character is None


def test_built_turns_are_shared_but_cannot_be_changed() -> None:
    first = turn_context(ContextTurn(5, "user", "Ann", None, "narration", "The door opened."))
    again = turn_context(ContextTurn(9, "user", "Ann", None, "narration", "The door opened."))
    edited = turn_context(ContextTurn(5, "user", "Ann", None, "narration", "The door closed."))
    renamed = turn_context(ContextTurn(5, "user", "Bo", None, "narration", "The door opened."))
    assert again is first
    assert edited.text == "The door closed." and renamed.author == "Bo"
    with pytest.raises(pydantic.ValidationError, match="frozen"):
        first.text = "Changed."
    assert (
        turn_context(ContextTurn(5, "user", "Ann", None, "narration", "The door opened.")) == first
    )
