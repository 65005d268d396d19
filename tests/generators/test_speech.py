"""Dialogue is attributed to the speaker who was asked for, or to no one."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from generators.inference.pipeline import PreparedRequest, to_candidates
from generators.schemas import GenerateRequest, StoryContext
from generators.text.speech import attribute_speech

SPEAKER = "Old Wind"


@pytest.mark.parametrize(
    ("made", "shown"),
    [
        ('"Let\'s go and eat," said Lily.', '"Let\'s go and eat," said Old Wind.'),
        ('"Let\'s go," Lily said.', '"Let\'s go," Old Wind said.'),
        ("\u201cHush,\u201d whispered Captain Mira.", "\u201cHush,\u201d whispered Old Wind."),
        ('Lily said, "Come here."', 'Old Wind said, "Come here."'),
        ('The sun set. Tom asked, "Where?"', 'The sun set. Old Wind asked, "Where?"'),
        ('"Go," said the old man to her.', '"Go," said Old Wind to her.'),
        ('"Go," the little fox muttered.', '"Go," Old Wind muttered.'),
        ('"Go," said the girl softly.', '"Go," said Old Wind softly.'),
        ('"Hi!" said Lily. "Bye!" said Tom.', '"Hi!" said Old Wind. "Bye!" said Old Wind.'),
    ],
)
def test_a_tag_naming_someone_else_names_the_speaker(made: str, shown: str) -> None:
    assert attribute_speech(made, SPEAKER) == shown


@pytest.mark.parametrize(
    "kept",
    [
        '"Lily, come here," said Old Wind.',
        '"Go," Wind said.',
        '"Go," said old wind.',
        '"Go," she said.',
        '"We must go," they whispered.',
        '"Nobody here."',
        "Lily walked to the river and said nothing.",
    ],
)
def test_the_speaker_pronouns_and_quoted_names_stay(kept: str) -> None:
    assert attribute_speech(kept, SPEAKER) == kept


def test_without_a_speaker_nothing_changes() -> None:
    assert attribute_speech('"Go," said Lily.', None) == '"Go," said Lily.'


def test_dialogue_candidates_are_attributed_on_every_serving_path() -> None:
    """`to_candidates` is shared by the in-process generator and the service."""

    def prepared(kind: str) -> PreparedRequest:
        context = StoryContext(genre="children", speaker=SPEAKER)
        request = GenerateRequest(kind=kind, context=context)
        return PreparedRequest(request, None, None, [1])

    made = [SimpleNamespace(text='"Let\'s go and eat," said Lily.', mean_logprob=-1.0, tokens=[1])]
    [dialogue] = to_candidates(prepared("dialogue"), made)
    assert dialogue.text == '"Let\'s go and eat," said Old Wind.'
    [narration] = to_candidates(prepared("continue"), made)
    assert narration.text == '"Let\'s go and eat," said Lily.'
