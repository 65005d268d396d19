"""Which capitalized words are names, per genre, and which names a text mentions.

The lexicon is learnt from the training corpus: a word is a name when it is mostly written
capitalized inside sentences (Lily, Holmes, London) and rarely in lower case, or is a title
seen capitalized inside sentences very often (King, Lady). It ships in the
VAE checkpoint's config.json, so the twist planner can tell a story's own characters, the
names a genre is full of, and names that come from nowhere.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping

from generators.text.corpus import Document

_WORD = re.compile(r"[A-Za-z]+")
_MID_CAPITAL = re.compile(r"(?<=[a-z,;:] )([A-Z][a-z]+)\b")
_CAPITAL = re.compile(r"\b([A-Z][a-z]+)\b")
_SENTENCE_START = re.compile(r"(?:^|[.!?][\"'\u201d\u2019)]*\s+|[\"'\u201c\u2018(]\s*)$")


def name_lexicon(
    documents: Iterable[Document], per_genre: int = 300, min_count: int = 5, title_count: int = 50
) -> dict[str, list[str]]:
    """The `per_genre` most frequent names of each genre, most frequent first.

    A name is capitalized inside sentences at least `min_count` times and written in lower case
    at most a tenth as often; titles that are also common nouns (King, Lady, Captain) count when
    capitalized inside sentences at least `title_count` times."""
    capital: dict[str, Counter[str]] = {}
    lower: Counter[str] = Counter()
    for doc in documents:
        capital.setdefault(doc.genre, Counter()).update(_MID_CAPITAL.findall(doc.text))
        lower.update(w for w in _WORD.findall(doc.text) if w.islower())
    lexicon = {}
    for genre, counts in capital.items():
        names = [
            word
            for word, count in counts.most_common()
            if count >= title_count or (count >= min_count and lower[word.lower()] * 10 <= count)
        ]
        lexicon[genre] = names[:per_genre]
    return lexicon


def mentioned_names(
    text: str, known: Iterable[str], lexicon: Mapping[str, Iterable[str]] | None = None
) -> list[str]:
    """Names in `text`, in order of first mention: words of `known` or of any genre's lexicon
    wherever they stand, and other capitalized words inside a sentence (not its first word)."""
    known_set = {k.casefold() for k in known}
    lexicon_set = {w for names in (lexicon or {}).values() for w in names}
    found: list[str] = []
    for match in _CAPITAL.finditer(text):
        word = match.group(1)
        if word.casefold() in known_set or word in lexicon_set:
            is_name = True
        else:
            is_name = not _SENTENCE_START.search(text[: match.start()])
        if is_name and word not in found:
            found.append(word)
    return found
