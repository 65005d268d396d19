"""A multinomial naive Bayes genre classifier over words, for measuring genre control.

Deliberately simple and transparent: trained in seconds on the corpus's training split, stored as
JSON (never pickled), and good enough to tell TinyStories from Poe from Sherlock Holmes.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

_WORD = re.compile(r"[a-z']+")


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


class GenreClassifier:
    def __init__(
        self,
        log_prior: dict[str, float],
        log_likelihood: dict[str, dict[str, float]],
        unseen: dict[str, float],
    ):
        self.log_prior = log_prior
        self.log_likelihood = log_likelihood
        self.unseen = unseen

    @classmethod
    def train(
        cls, labelled: Iterable[tuple[str, str]], vocab_size: int = 20000, alpha: float = 0.5
    ) -> GenreClassifier:
        counts: dict[str, Counter[str]] = {}
        docs: Counter[str] = Counter()
        for text, genre in labelled:
            counts.setdefault(genre, Counter()).update(words(text))
            docs[genre] += 1
        total_words: Counter[str] = Counter()
        for c in counts.values():
            total_words.update(c)
        vocab = [w for w, _ in total_words.most_common(vocab_size)]
        n_docs = sum(docs.values())
        log_prior = {g: math.log(docs[g] / n_docs) for g in counts}
        log_likelihood: dict[str, dict[str, float]] = {}
        unseen: dict[str, float] = {}
        for genre, c in counts.items():
            denominator = sum(c[w] for w in vocab) + alpha * (len(vocab) + 1)
            log_likelihood[genre] = {w: math.log((c[w] + alpha) / denominator) for w in vocab}
            unseen[genre] = math.log(alpha / denominator)
        return cls(log_prior, log_likelihood, unseen)

    def scores(self, text: str) -> dict[str, float]:
        tokens = words(text)
        return {
            genre: self.log_prior[genre] + sum(table.get(w, self.unseen[genre]) for w in tokens)
            for genre, table in self.log_likelihood.items()
        }

    def predict(self, text: str) -> str:
        scores = self.scores(text)
        return max(scores, key=scores.__getitem__)

    def save(self, path: Path) -> None:
        data = {
            "log_prior": self.log_prior,
            "log_likelihood": self.log_likelihood,
            "unseen": self.unseen,
        }
        path.write_text(json.dumps(data), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> GenreClassifier:
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(data["log_prior"], data["log_likelihood"], data["unseen"])
