"""Trigger pairs: the words a story's next sentence tends to bring, given the words the story
has used so far (a fishing trip brings "fish", "water" and "rod"; a swing, "higher" and "push").

Counted over the training documents that the passage index reads: for each sentence, the
content words of the story before it (`topics.WINDOW_CHARS`, names left out as in the index's
keys)
and its own. A text's lift under a story is the mean, over the text's words w, of

    log P(w | story) - log P(w),   P(w | story) = mean over the story's words s of P(w | s),

with P(w | s) smoothed towards P(w) (`SMOOTHING` examples' worth), so a word the story makes
no likelier lifts nothing. This is Rosenfeld's trigger-pair idea (1996) with the
translation-model mixture of IBM Model 1: what the small served models' log-probabilities
barely weigh, and what exact-word overlap cannot see.

Why it is here: the served reranker chose the true next two sentences over the three passages
retrieved for the same moment (which match its last sentences' words) 27% of the time on 150
validation children's stories, and 23% on 150 book passages: chance is 25%. The lift alone,
counted as below, chose them 51% and 47% of the time. They are children's stories' measure of
topic fit (`retrieval.index.TOPIC_MEASURES`; books learn theirs, `generators.retrieval.topics`)
and weigh in twice: in a passage's fit (`retrieval.source.FIT_TOPIC_CHILDREN`) and in the
`story` reranker (`StoryWeights.topic_children`).

Pairs seen fewer than `MIN_PAIR_COUNT` times are not stored and read as independent (lift 0).
Keeping every pair (38 million for books) chose the true sentences 50% and 39% of the time;
dropping the rare ones as never seen, instead of as independent, took the books' to 16%.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import sparse

from generators.retrieval.topics import story_examples

MIN_WORD_COUNT = 5
MIN_PAIR_COUNT = 5
SMOOTHING = 20.0
_CHUNK = 20_000_000
"""Pair codes gathered before they are counted, to bound memory while building."""


@dataclass
class TriggerPairs:
    """Counts of one genre group's (story word, next-sentence word) pairs."""

    vocabulary: dict[str, int]
    pairs: sparse.csr_matrix
    """Row: story word; column: next-sentence word; value: examples holding both."""
    story_counts: np.ndarray
    next_counts: np.ndarray
    examples: int

    def __post_init__(self) -> None:
        self._p_next = (self.next_counts.astype(np.float64) + 0.5) / (self.examples + 1)

    def lift(self, story_words: Iterable[str], text_words: Iterable[str]) -> float:
        """How much likelier the story makes the text's words, in nats per word (0 when
        neither side has a word the counts know)."""
        return self.under(story_words)(text_words)

    def under(self, story_words: Iterable[str]) -> Callable[[Iterable[str]], float]:
        """`lift` under one story, for many texts: the story's rows are read once."""
        rows = sorted({self.vocabulary[w] for w in story_words if w in self.vocabulary})
        block = self.pairs[rows].tocsc()
        story_counts = self.story_counts[rows, None]

        def lift(text_words: Iterable[str]) -> float:
            columns = sorted({self.vocabulary[w] for w in text_words if w in self.vocabulary})
            if not rows or not columns:
                return 0.0
            counts = block[:, columns].toarray()
            p_next = self._p_next[columns]
            seen = (counts + SMOOTHING * p_next) / (story_counts + SMOOTHING)
            given = np.where(counts > 0, seen, p_next).mean(axis=0)
            return float(np.mean(np.log(given) - np.log(p_next)))

        return lift

    def words(self) -> list[str]:
        return sorted(self.vocabulary, key=self.vocabulary.__getitem__)

    def save(self, path: Path) -> None:
        np.savez(
            path,
            data=self.pairs.data.astype(np.float32),
            indices=self.pairs.indices.astype(np.int32),
            indptr=self.pairs.indptr.astype(np.int64),
            story_counts=self.story_counts,
            next_counts=self.next_counts,
            examples=np.array(self.examples, dtype=np.int64),
        )

    @classmethod
    def load(cls, path: Path, words: Sequence[str]) -> TriggerPairs:
        arrays = np.load(path, allow_pickle=False)
        size = len(words)
        pairs = sparse.csr_matrix(
            (arrays["data"], arrays["indices"], arrays["indptr"]), shape=(size, size)
        )
        return cls(
            vocabulary={word: i for i, word in enumerate(words)},
            pairs=pairs,
            story_counts=arrays["story_counts"],
            next_counts=arrays["next_counts"],
            examples=int(arrays["examples"]),
        )


def count_triggers(documents: Iterable[Sequence[tuple[int, list[str]]]]) -> TriggerPairs:
    """The pairs of documents given as (sentence length in characters, its content words)
    per sentence."""
    documents = list(documents)
    story_counts: Counter[str] = Counter()
    next_counts: Counter[str] = Counter()
    for story, following in story_examples(documents):
        story_counts.update(story)
        next_counts.update(following)
    words = sorted(
        w
        for w in story_counts.keys() | next_counts.keys()
        if story_counts[w] + next_counts[w] >= MIN_WORD_COUNT
    )
    vocabulary = {word: i for i, word in enumerate(words)}
    size = len(words)
    pairs = sparse.csr_matrix((size, size), dtype=np.float32)
    codes: list[np.ndarray] = []
    pending = 0
    examples = 0
    for story, following in story_examples(documents):
        examples += 1
        rows = np.fromiter((vocabulary[w] for w in story if w in vocabulary), dtype=np.int64)
        columns = np.fromiter((vocabulary[w] for w in following if w in vocabulary), dtype=np.int64)
        if len(rows) and len(columns):
            codes.append((rows[:, None] * size + columns[None, :]).ravel())
            pending += len(codes[-1])
        if pending >= _CHUNK:
            pairs = pairs + _counted(codes, size)
            codes, pending = [], 0
    if codes:
        pairs = pairs + _counted(codes, size)
    pairs = sparse.csr_matrix(pairs)
    pairs.data[pairs.data < MIN_PAIR_COUNT] = 0
    pairs.eliminate_zeros()
    return TriggerPairs(
        vocabulary=vocabulary,
        pairs=pairs,
        story_counts=np.array([story_counts[w] for w in words], dtype=np.float32),
        next_counts=np.array([next_counts[w] for w in words], dtype=np.float32),
        examples=examples,
    )


def _counted(codes: list[np.ndarray], size: int) -> sparse.csr_matrix:
    unique, counts = np.unique(np.concatenate(codes), return_counts=True)
    return sparse.csr_matrix(
        (counts.astype(np.float32), (unique // size, unique % size)), shape=(size, size)
    )
