"""Two small kinds of story, a fishing trip and a day at the park, as the topic measures read
documents: (sentence length in characters, its content words) per sentence."""

from __future__ import annotations


def words_of(sentence: str) -> list[str]:
    return [w.strip(".").lower() for w in sentence.split() if len(w.strip(".")) >= 3]


def document(*sentences: str) -> list[tuple[int, list[str]]]:
    return [(len(s), words_of(s)) for s in sentences]


FISHING = document(
    "Tom took his rod to the lake.", "He sat in the boat.", "He caught a shiny fish."
)
PARK = document("Ann ran to the park.", "She sat on the swing.", "She went higher and higher.")
