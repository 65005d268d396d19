"""Recasing the lower-case TinyStories copy."""

from __future__ import annotations

from generators.text.recase import learn_names, recase

CASED = [
    "Once upon a time, there was a girl named Lily. She met Tom at the park.",
    "Lily and Tom played. Then Lily went home with Tom and Lily's dog.",
    "Tom said hi to Lily. The sun was warm and Tom smiled.",
]


def test_learns_names_from_mid_sentence_capitals():
    names = learn_names(CASED)
    assert {"lily", "tom"} <= names
    assert "the" not in names and "sun" not in names


def test_recase_sentences_names_pronoun_and_quotes():
    names = learn_names(CASED)
    text = (
        'once lily saw a cat. "can i pet it?" she asked. tom said, "yes!" they ran home.\n'
        "my name is wilbur, said the old man. wilbur didn't mind."
    )
    assert recase(text, names) == (
        'Once Lily saw a cat. "Can I pet it?" she asked. Tom said, "Yes!" They ran home.\n'
        "My name is Wilbur, said the old man. Wilbur didn't mind."
    )


def test_contractions_stay_lower_case():
    assert recase("she didn't know. i'd go.", set()) == "She didn't know. I'd go."
