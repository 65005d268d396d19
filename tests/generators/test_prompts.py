"""Prompt building: control tokens first, newest turns kept, oldest dropped."""

from __future__ import annotations

import pytest

from generators.inference.prompts import build_prompt, render_output
from generators.schemas import StoryContext
from generators.text.tokenizer import (
    PREMISE_START,
    SPEAKER_START,
    TextTokenizer,
    genre_token,
    kind_token,
    mood_token,
)


@pytest.fixture(scope="module")
def tok() -> TextTokenizer:
    return TextTokenizer.train(["Turn number one. The cat ran. Mira spoke softly."] * 30, 320)


def context(turns: int, **extra) -> StoryContext:
    return StoryContext.model_validate(
        {
            "genre": "horror_gothic",
            "mood": "eerie",
            "premise": "A lighthouse keeper finds a door in the sea",
            "turns": [{"author": f"u{i}", "text": f"Turn number {i}. " * 6} for i in range(turns)],
            **extra,
        }
    )


def test_control_tokens_lead_the_prompt(tok):
    prompt = build_prompt(tok, "continue", context(2))
    assert prompt.ids[0] == tok.eos_id
    assert prompt.ids[1] == tok.id(genre_token("horror_gothic"))
    assert prompt.ids[2] == tok.id(mood_token("eerie"))
    assert prompt.ids[3] == tok.id(PREMISE_START)
    assert prompt.ids[-1] == tok.id(kind_token("narration"))


def test_truncation_keeps_newest_turns_and_controls(tok):
    budget = 120
    prompt = build_prompt(tok, "continue", context(40), budget=budget)
    assert len(prompt.ids) <= budget
    assert prompt.dropped_turns > 0
    text = tok.decode(prompt.ids)
    assert "Turn number 39." in text
    assert "Turn number 0." not in text
    assert prompt.ids[1] == tok.id(genre_token("horror_gothic"))
    assert prompt.ids[-1] == tok.id(kind_token("narration"))


def test_single_huge_turn_is_cut_from_its_start(tok):
    ctx = StoryContext.model_validate(
        {"genre": "children", "turns": [{"text": "word " * 500 + "THE END."}]}
    )
    prompt = build_prompt(tok, "continue", ctx, budget=64)
    assert len(prompt.ids) <= 64
    assert tok.decode(prompt.ids).rstrip().endswith("THE END.")


def test_dialogue_names_the_speaker_and_opens_a_quote(tok):
    ctx = context(1, characters=[{"name": "Mira", "personality": "proud stubborn"}], speaker="Mira")
    prompt = build_prompt(tok, "dialogue", ctx)
    assert tok.id(SPEAKER_START) in prompt.ids
    assert prompt.prefix_text == '"'
    assert prompt.stop.closing_quote
    premise = tok.decode(prompt.ids[prompt.ids.index(tok.id(PREMISE_START)) :])
    assert "Mira" in premise and "proud" in premise


def test_poem_uses_the_poetry_genre_and_theme(tok):
    ctx = context(3, theme="the moon over the sea")
    prompt = build_prompt(tok, "poem", ctx)
    assert prompt.ids[1] == tok.id(genre_token("poetry"))
    assert "moon" in tok.decode(prompt.ids)
    assert "Turn number" not in tok.decode(prompt.ids)


def test_children_stories_use_single_newlines(tok):
    ctx = StoryContext.model_validate(
        {"genre": "children", "turns": [{"text": "A."}, {"text": "B."}]}
    )
    assert "A.\nB.\n" in tok.decode(build_prompt(tok, "continue", ctx).ids)


def test_render_joins_hard_wrapped_book_lines():
    assert render_output("continue", "The night\nwas dark.\n\nNext", "mystery") == (
        "The night was dark.\n\nNext"
    )
    assert render_output("poem", "Line one\nLine two", "poetry") == "Line one\nLine two"


def test_memory_and_lore_lead_the_turns_in_order(tok):
    ctx = context(3, memory="Mira spoke softly.", lore=["The cat ran.", "Turn number one."])
    text = tok.decode(build_prompt(tok, "continue", ctx).ids)
    memory, cat, one = (text.index(s) for s in ("Mira spoke", "The cat ran", "Turn number one."))
    assert memory < cat < one < text.index("Turn number 0")


def test_lore_never_pushes_out_the_newest_turn(tok):
    lore = ["The cat ran. " * 30] * 4
    prompt = build_prompt(tok, "continue", context(6, memory="Mira spoke softly.", lore=lore), 120)
    text = tok.decode(prompt.ids)
    assert len(prompt.ids) <= 120
    assert "Turn number 5" in text and "Mira spoke softly" in text
    assert prompt.dropped_lead == 4


def test_a_poem_reads_no_lore(tok):
    ctx = context(1, memory="Mira spoke softly.", lore=["The cat ran."])
    assert "Mira" not in tok.decode(build_prompt(tok, "poem", ctx).ids)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("They laughed and laughed. The end.", "They laughed and laughed."),
        ("The end. The wind blew on.", "The wind blew on."),
        ('"Goodbye!" The End', '"Goodbye!"'),
        ("He said the end was near.", "He said the end was near."),
        ("Bob reached the end. Then he left.", "Bob reached the end. Then he left."),
    ],
)
def test_a_turn_in_the_middle_of_a_story_does_not_end_it(text: str, shown: str) -> None:
    assert render_output("continue", text, "children") == shown
    assert render_output("opening", text, "children") == text


@pytest.mark.parametrize(
    "last",
    ['Tom said, "No, Tim!', "She smiled. \u201cI am happy to see you too.", 'A "word" and "more'],
)
def test_a_story_stopped_mid_speech_is_continued_inside_the_quote(tok, last):
    ctx = StoryContext.model_validate(
        {"genre": "children", "turns": [{"text": "The cat ran."}, {"text": last}]}
    )
    prompt = build_prompt(tok, "continue", ctx)
    assert prompt.inside_quote
    assert prompt.stop.closing_quote and prompt.stop.inside_quote
    assert tok.id(kind_token("narration")) not in prompt.ids
    assert tok.decode(prompt.ids).endswith(last)


@pytest.mark.parametrize(
    ("kind", "genre", "last"),
    [
        ("continue", "children", 'Tom said, "No, Tim!"'),
        ("continue", "children", "She said \u201chello\u201d and left."),
        ("continue", "children", 'He spoke. "It is late.\nThe lamp went out.'),
        ("twist", "children", 'Tom said, "No, Tim!'),
        ("continue", "fairy_tales", "The giant said, \u201cPray how did you sleep?"),
    ],
)
def test_a_closed_quote_another_kind_or_a_book_starts_a_new_paragraph(tok, kind, genre, last):
    """Books keep their passages: the model's own book speech read worse (speech.py)."""
    ctx = StoryContext.model_validate({"genre": genre, "turns": [{"text": last}]})
    prompt = build_prompt(tok, kind, ctx)
    assert not prompt.inside_quote and not prompt.stop.inside_quote
    assert prompt.ids[-1] == tok.id(kind_token("narration" if kind == "continue" else kind))
