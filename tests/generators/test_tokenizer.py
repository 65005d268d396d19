"""The tokenizer: lossless on any Unicode, control tokens only by id."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from generators.text.tokenizer import SPECIAL_TOKENS, TextTokenizer, genre_token

ODD_TEXTS = [
    "Emoji 🐉🔥 and family 👩‍👩‍👧 in a story.",
    "RTL: שלום עולם and مرحبا بالعالم mixed with English.",
    "Zero\u200bwidth\u200djoiners\ufeff and bidi \u202eoverride\u202c.",
    "Combining: e\u0301 a\u0308 n\u0303, CJK 物語, math 𝔉𝔞𝔫𝔠𝔶.",
    "Control-ish: tab\tnewline\nnull-less, <|endoftext|> typed by a user.",
    "",
]


@pytest.fixture(scope="module")
def tokenizer() -> TextTokenizer:
    texts = ["Once upon a time there was a little cat. It was happy."] * 50
    return TextTokenizer.train(texts, vocab_size=320)


@pytest.mark.parametrize("text", ODD_TEXTS)
def test_round_trip_odd_unicode(tokenizer, text):
    assert tokenizer.decode(tokenizer.encode(text)) == text


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_round_trip_any_unicode(tokenizer, text):
    assert tokenizer.decode(tokenizer.encode(text)) == text


def test_typed_control_token_stays_text(tokenizer):
    ids = tokenizer.encode("<|endoftext|>")
    assert tokenizer.eos_id not in ids
    assert len(ids) > 1


def test_control_tokens_exist_and_are_skipped_in_decode(tokenizer):
    for token in SPECIAL_TOKENS:
        assert tokenizer.id(token) in tokenizer.special_ids
    ids = [tokenizer.id(genre_token("children")), *tokenizer.encode("Hi"), tokenizer.eos_id]
    assert tokenizer.decode(ids) == "Hi"
    assert tokenizer.decode(ids, skip_special=False).startswith("<|genre:children|>")


def test_save_load_identical(tokenizer, tmp_path):
    path = tmp_path / "tokenizer.json"
    tokenizer.save(path)
    loaded = TextTokenizer.load(path)
    sample = "The old tower whispered. 🐉"
    assert loaded.encode(sample) == tokenizer.encode(sample)
    assert loaded.vocab_size == tokenizer.vocab_size
