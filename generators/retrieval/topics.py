"""Topic fit: how well a text's words suit the story told so far, by a small learned encoder.

Two tables of word vectors, one for the story's words and one for the next sentence's, are
trained together over the training documents that the passage index reads: for each sentence,
the content words of the story before it (`WINDOW_CHARS`, names left out as in the index's
keys) should point the same way as the sentence's own, and away from the other sentences of the
batch (in-batch softmax; sentences of the same document, and sentences with the same words, are
not counted as wrong answers). A text's fit under a story is the cosine of the two mean
vectors, from -1 to 1. This is a bag-of-words dual encoder: what trigger-pair counts
(`generators.retrieval.triggers`) estimate pair by pair, learned in 128 dimensions, so that
words seen together rarely still borrow from words like them. `story_examples` and
`WINDOW_CHARS` are shared with the counts, so both read a story the same way.

Why it is here: the choice the served ranking faces is the true next sentences against
passages retrieved for the same moment, which all match its last sentences' words. On 150
validation stories per group, with three such passages each (chance about 25%), the true
sentences came first by the served model's log-probabilities 27% (children) and 23% (books) of
the time, by the trigger-pair counts 50% and 39%, and by this fit 59% and 74%. Books' figure is
helped by the true sentences' book being in the training split (its own passages are never
retrieved): trained on the documents of half the books, it put the true sentences first 55% of
the time for passages of the other half, where the counts, which had seen every book, managed
45%. Adding the last sentence's words as a third table (its own vectors) lowered it to 49% and
59%: the passages already match the last sentence, so the story around it is what tells them
apart.

It is books' measure of topic fit (`retrieval.index.TOPIC_MEASURES`) and weighs in twice: in a
passage's fit (`retrieval.source.FIT_TOPIC`) and in the `story` reranker (`StoryWeights.topic`).
Children's stories keep the trigger counts: there blind readers rated the turns it changed less
coherent (see `StoryWeights.topic_children`).
"""

from __future__ import annotations

import logging
import random
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

log = logging.getLogger(__name__)

WINDOW_CHARS = 1500
"""How far back the story's words are read, for training and for scoring alike."""
MIN_WORD_COUNT = 5
"""Words found in fewer sentences have no vector."""
DIMENSIONS = 128
EPOCHS = 2
MIN_STEPS = 300
"""Batches trained at the least: more passes over a small corpus (a test's dozen stories), where
two would leave the vectors where they started."""
BATCH = 512
LEARNING_RATE = 3e-3
INITIAL_SCALE = 5.0
"""The softmax's starting sharpness over cosines (learned from there)."""


class TopicFit(Protocol):
    """A measure of how well texts suit a story, kept per genre group in the passage index."""

    def under(self, story_words: Iterable[str]) -> Callable[[Iterable[str]], float]:
        """The fit of texts (given as their content words) under one story."""
        ...

    def save(self, path: Path) -> None: ...

    def words(self) -> list[str]:
        """The words it knows, in the order `load` expects them."""
        ...


@dataclass
class TopicEncoder:
    """One genre group's word vectors: for the story's words and for the next sentence's."""

    vocabulary: dict[str, int]
    story: np.ndarray
    following: np.ndarray

    def under(self, story_words: Iterable[str]) -> Callable[[Iterable[str]], float]:
        """The fit of texts (given as their content words) under one story: the cosine of
        their mean vectors; 0 when either side has no word with a vector."""
        story = _mean_direction(self.story, self._rows(story_words))

        def fit(text_words: Iterable[str]) -> float:
            if story is None:
                return 0.0
            text = _mean_direction(self.following, self._rows(text_words))
            return 0.0 if text is None else float(story @ text)

        return fit

    def _rows(self, words: Iterable[str]) -> list[int]:
        return sorted({self.vocabulary[w] for w in words if w in self.vocabulary})

    def save(self, path: Path) -> None:
        np.savez(
            path, story=self.story.astype(np.float16), following=self.following.astype(np.float16)
        )

    @classmethod
    def load(cls, path: Path, words: Sequence[str]) -> TopicEncoder:
        arrays = np.load(path, allow_pickle=False)
        return cls(
            vocabulary={word: i for i, word in enumerate(words)},
            story=arrays["story"].astype(np.float32),
            following=arrays["following"].astype(np.float32),
        )

    def words(self) -> list[str]:
        return sorted(self.vocabulary, key=self.vocabulary.__getitem__)


def _mean_direction(table: np.ndarray, rows: list[int]) -> np.ndarray | None:
    if not rows:
        return None
    vector = table[rows].mean(axis=0)
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else None


def train_topic_encoder(
    documents: Sequence[Sequence[tuple[int, list[str]]]],
    *,
    seed: int = 0,
    progress: Callable[[Iterable], Iterable] | None = None,
) -> TopicEncoder:
    """The encoder of documents given as (sentence length in characters, its content words)
    per sentence; the same documents and seed give the same vectors."""
    import torch

    counts: Counter[str] = Counter()
    for sentences in documents:
        for _, words in sentences:
            counts.update(set(words))
    words = sorted(w for w, n in counts.items() if n >= MIN_WORD_COUNT)
    vocabulary = {word: i for i, word in enumerate(words)}
    examples = list(_examples(documents, vocabulary))
    generator = torch.Generator().manual_seed(seed)
    story = torch.nn.EmbeddingBag(max(len(words), 1), DIMENSIONS, mode="mean")
    following = torch.nn.EmbeddingBag(max(len(words), 1), DIMENSIONS, mode="mean")
    for table in (story, following):
        with torch.no_grad():
            table.weight.normal_(0.0, 0.1, generator=generator)
    scale = torch.nn.Parameter(torch.tensor(INITIAL_SCALE))
    optimizer = torch.optim.Adam([story.weight, following.weight, scale], lr=LEARNING_RATE)
    order = random.Random(seed)
    batch = min(BATCH, len(examples))
    starts = list(range(0, len(examples) - batch + 1, batch)) if batch >= 2 else []
    epochs = max(EPOCHS, -(-MIN_STEPS // len(starts))) if starts else 0
    steps = starts * epochs
    iterator: Iterable = steps if progress is None else progress(steps)
    losses: list[float] = []
    for step, start in enumerate(iterator):
        if start == 0:
            order.shuffle(examples)
        chunk = examples[start : start + batch]
        stories = torch.nn.functional.normalize(story(*_bag([e[0] for e in chunk])), dim=-1)
        nexts = torch.nn.functional.normalize(following(*_bag([e[1] for e in chunk])), dim=-1)
        logits = scale * stories @ nexts.T
        documents_of = torch.tensor([e[2] for e in chunk])
        words_of = torch.tensor([hash(tuple(e[1])) for e in chunk])
        same = (documents_of[:, None] == documents_of[None, :]) | (
            words_of[:, None] == words_of[None, :]
        )
        same &= ~torch.eye(len(chunk), dtype=torch.bool)
        logits = logits.masked_fill(same, -1e4)
        loss = torch.nn.functional.cross_entropy(logits, torch.arange(len(chunk)))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if (step + 1) % 200 == 0:
            log.info("topic encoder step %d: loss %.4f", step + 1, np.mean(losses[-200:]))
    if losses:
        log.info("topic encoder: %d examples, final loss %.4f", len(examples), losses[-1])
    return TopicEncoder(
        vocabulary=vocabulary,
        story=story.weight.detach().numpy().copy(),
        following=following.weight.detach().numpy().copy(),
    )


def story_examples(
    documents: Iterable[Sequence[tuple[int, list[str]]]],
) -> Iterable[tuple[set[str], set[str]]]:
    """(the story's words before a sentence, the sentence's words), for every sentence that
    has a story before it and words of its own."""
    for sentences in documents:
        for i in range(1, len(sentences)):
            following = set(sentences[i][1])
            story: set[str] = set()
            chars, j = 0, i - 1
            while j >= 0 and chars < WINDOW_CHARS:
                story.update(sentences[j][1])
                chars += sentences[j][0]
                j -= 1
            if story and following:
                yield story, following


def _examples(
    documents: Sequence[Sequence[tuple[int, list[str]]]], vocabulary: dict[str, int]
) -> Iterable[tuple[list[int], list[int], int]]:
    """`story_examples` as word ids, with their document, where both sides keep a word."""
    for document, sentences in enumerate(documents):
        for story, following in story_examples([sentences]):
            story_ids = sorted({vocabulary[w] for w in story if w in vocabulary})
            following_ids = sorted({vocabulary[w] for w in following if w in vocabulary})
            if story_ids and following_ids:
                yield story_ids, following_ids, document


def _bag(lists: list[list[int]]):
    import torch

    flat = torch.tensor([i for ids in lists for i in ids], dtype=torch.long)
    offsets = torch.tensor(np.cumsum([0] + [len(ids) for ids in lists[:-1]]), dtype=torch.long)
    return flat, offsets
