"""Cutting documents into sentences for the sentence VAE and the style encoder.

A sentence ends at `.`, `!` or `?` (with any closing quotes or brackets) followed by space and
an upper-case letter or an opening quote, so `"Can I play?" asked Tom.` stays one sentence, and
not after a title such as `Mr.`. Hard-wrapped lines inside a paragraph are joined first, since
the books wrap at about 70 characters. Training sentences keep the genre and split of their
document, so the VAE's validation split is the language model's.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from generators.text.corpus import Document
from generators.text.markup import split_paragraphs
from generators.text.tokenizer import TextTokenizer

MIN_TOKENS = 4
MAX_TOKENS = 40

_BOUNDARY = re.compile(r"[.!?]+[\"'\u201d\u2019)\]]*\s+(?=[\"'\u201c\u2018(\[]?[A-Z])")
_TITLES = frozenset(
    ["mr", "mrs", "ms", "dr", "st", "mme", "mlle", "messrs", "prof", "rev", "capt", "lt", "sgt"]
)
_LAST_WORD = re.compile(r"([A-Za-z]+)\.\s*$")
_LINE_BREAK = re.compile(r"\s*\n\s*")


def split_sentences(text: str) -> list[str]:
    """Sentences of a text, paragraph by paragraph, with hard line breaks joined."""
    sentences: list[str] = []
    paragraphs, _ = split_paragraphs(text)
    for paragraph in paragraphs:
        flat = _LINE_BREAK.sub(" ", paragraph).strip()
        if not flat:
            continue
        start = 0
        for match in _BOUNDARY.finditer(flat):
            piece = flat[start : match.end()]
            title = _LAST_WORD.search(piece)
            if title and title.group(1).lower() in _TITLES:
                continue
            sentences.append(piece.strip())
            start = match.end()
        tail = flat[start:].strip()
        if tail:
            sentences.append(tail)
    return sentences


@dataclass
class SentenceSet:
    """Token ids of many sentences in one flat array (`offsets[i]:offsets[i+1]` is sentence i),
    with the genre of each; compact enough to hold every sentence of the corpus in memory."""

    ids: np.ndarray
    offsets: np.ndarray
    genres: list[str]

    def __len__(self) -> int:
        return len(self.genres)

    def tokens(self, index: int) -> list[int]:
        return self.ids[self.offsets[index] : self.offsets[index + 1]].tolist()

    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    def subset(self, indices: Sequence[int]) -> SentenceSet:
        pieces = [self.ids[self.offsets[i] : self.offsets[i + 1]] for i in indices]
        lengths = [len(p) for p in pieces]
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        ids = np.concatenate(pieces).astype(np.int32) if pieces else np.zeros(0, np.int32)
        return SentenceSet(ids, offsets, [self.genres[i] for i in indices])


def encode_sentences(
    tokenizer: TextTokenizer,
    texts: Sequence[str],
    genres: Sequence[str],
    min_tokens: int = MIN_TOKENS,
    max_tokens: int = MAX_TOKENS,
) -> SentenceSet:
    """Tokenize sentences, keeping those of `min_tokens`..`max_tokens` tokens."""
    kept_ids: list[np.ndarray] = []
    kept_genres: list[str] = []
    chunk = 20000
    for start in range(0, len(texts), chunk):
        batch = tokenizer.encode_batch(list(texts[start : start + chunk]))
        for ids, genre in zip(batch, genres[start : start + chunk], strict=True):
            if min_tokens <= len(ids) <= max_tokens:
                kept_ids.append(np.asarray(ids, dtype=np.int32))
                kept_genres.append(genre)
    lengths = [len(ids) for ids in kept_ids]
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    flat = np.concatenate(kept_ids) if kept_ids else np.zeros(0, np.int32)
    return SentenceSet(flat, offsets, kept_genres)


def document_sentences(
    documents: Iterable[Document],
    tokenizer: TextTokenizer,
    min_tokens: int = MIN_TOKENS,
    max_tokens: int = MAX_TOKENS,
) -> SentenceSet:
    """Every sentence of `documents` within the token limits, tagged with its document's genre."""
    texts: list[str] = []
    genres: list[str] = []
    for doc in documents:
        for sentence in split_sentences(doc.text):
            texts.append(sentence)
            genres.append(doc.genre)
    return encode_sentences(tokenizer, texts, genres, min_tokens, max_tokens)
