"""Turning a document into a training sequence with control tokens.

Each document becomes `<|endoftext|> [genre] [mood] [premise keywords] paragraphs... <|endoftext|>`.
Every control token is present only part of the time (seeded per document and epoch), so the
model learns both to follow a control token and to do without it: evaluation scores plain text
after `<|endoftext|> <|genre:...|>`, which is then squarely in distribution. Paragraphs are tagged
with their kind (narration, dialogue with the speaker's name, twist, poem) so those tokens mean
something when a prompt uses them.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from generators.text.tokenizer import (
    PREMISE_END,
    PREMISE_START,
    SPEAKER_END,
    SPEAKER_START,
    TextTokenizer,
    genre_token,
    kind_token,
    mood_token,
)

_SAID = (
    r"said|asked|cried|replied|shouted|whispered|answered|exclaimed|called|yelled|muttered|"
    r"screamed|laughed|sighed|added|continued|began"
)
_SPEAKER_AFTER = re.compile(rf"[\"\u201d,!?]\s+(?:{_SAID})\s+([A-Z][a-z]+)")
_SPEAKER_BEFORE = re.compile(rf"\b([A-Z][a-z]+)\s+(?:{_SAID})\b")
_NOT_NAMES = frozenset(
    """He She It They We I You The Then But And So When Now There This That What Who His Her
    Their One Once Oh Yes No Well Why How Where Here After Before As If At In On All Some""".split()
)
_TWIST = re.compile(
    r"\b(suddenly|all of a sudden|but then|to (?:his|her|their|everyone's) surprise|"
    r"without warning|just then|at that moment|out of nowhere|unexpectedly)\b",
    re.IGNORECASE,
)
_QUOTE = re.compile('["\u201c\u201d]')
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]{3,}")
_STOPWORDS = frozenset(
    """that this with have they them then there their were what when which while would could
    should about after again also been before being from into just like made many more much
    must only other over said some such than very will your because little every where went
    didn't don't wanted there's it's""".split()
)


@dataclass(frozen=True)
class MarkupRates:
    """How often each optional control token is present."""

    genre: float = 0.9
    mood: float = 0.6
    premise: float = 0.25
    paragraph_kind: float = 0.3


def find_speaker(paragraph: str) -> str | None:
    """The name of whoever speaks in a paragraph with a quote, when a simple pattern finds it."""
    if not _QUOTE.search(paragraph):
        return None
    for pattern in (_SPEAKER_AFTER, _SPEAKER_BEFORE):
        for match in pattern.finditer(paragraph):
            name = match.group(1)
            if name not in _NOT_NAMES:
                return name
    return None


def paragraph_kind(paragraph: str, genre: str) -> str:
    if genre == "poetry":
        return "poem"
    if _QUOTE.search(paragraph):
        return "dialogue"
    if _TWIST.search(paragraph[:200]):
        return "twist"
    return "narration"


def keywords(text: str, rng: random.Random, limit: int = 6) -> list[str]:
    """A few salient words of a document: repeated capitalized names first, then content words."""
    words = _WORD.findall(text)
    counts: dict[str, int] = {}
    for w in words:
        counts[w] = counts.get(w, 0) + 1
    names = [w for w, c in counts.items() if w[0].isupper() and c >= 2 and w not in _NOT_NAMES]
    content = [w for w in counts if w.islower() and w not in _STOPWORDS]
    rng.shuffle(names)
    rng.shuffle(content)
    chosen = names[:3] + content[: max(0, limit - min(3, len(names)))]
    rng.shuffle(chosen)
    return chosen


def split_paragraphs(text: str) -> tuple[list[str], str]:
    """Paragraphs of a document and the separator it uses (blank line in books, newline in
    TinyStories)."""
    separator = "\n\n" if "\n\n" in text else "\n"
    return text.split(separator), separator


class DocumentEncoder:
    """Encodes documents into token ids with control tokens, reproducibly from a seed."""

    def __init__(self, tokenizer: TextTokenizer, rates: MarkupRates | None = None):
        self.tok = tokenizer
        self.rates = rates or MarkupRates()
        self.speaker_start = tokenizer.id(SPEAKER_START)
        self.speaker_end = tokenizer.id(SPEAKER_END)
        self.premise_start = tokenizer.id(PREMISE_START)
        self.premise_end = tokenizer.id(PREMISE_END)

    def encode(self, text: str, genre: str, mood: str | None, rng: random.Random) -> list[int]:
        tok = self.tok
        rates = self.rates
        ids = [tok.eos_id]
        if rng.random() < rates.genre:
            ids.append(tok.id(genre_token(genre)))
        if mood is not None and rng.random() < rates.mood:
            ids.append(tok.id(mood_token(mood)))
        if rng.random() < rates.premise:
            words = keywords(text, rng)
            if words:
                ids += [self.premise_start, *tok.encode(", ".join(words)), self.premise_end]
        paragraphs, separator = split_paragraphs(text)
        for index, paragraph in enumerate(paragraphs):
            if index:
                ids += tok.encode(separator)
            if rng.random() < rates.paragraph_kind:
                ids += self.kind_prefix(paragraph, genre)
            ids += tok.encode(paragraph)
        ids.append(tok.eos_id)
        return ids

    def kind_prefix(self, paragraph: str, genre: str) -> list[int]:
        kind = paragraph_kind(paragraph, genre)
        prefix = [self.tok.id(kind_token(kind))]
        speaker = find_speaker(paragraph) if kind == "dialogue" else None
        if speaker:
            prefix += [self.speaker_start, *self.tok.encode(speaker), self.speaker_end]
        return prefix
