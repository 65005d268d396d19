"""BLEU-4 against references and self-BLEU-4 among samples, over word tokens.

Sentence BLEU (Papineni et al. 2002) with NLTK's smoothing method 1 (an n-gram order without a
match counts as 0.1 matches), averaged over hypotheses: the convention of Texygen (Zhu et al.
2018) and of the language-GAN papers, so figures compare with theirs. References are indexed
once (each n-gram's highest count in any reference, and the runner-up for leave-one-out), so
scoring hundreds of samples against thousands of sentences, or self-BLEU, stays linear.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

_WORD = re.compile(r"\w+(?:'\w+)?|[^\w\s]")
SMOOTHING_EPSILON = 0.1


def words(text: str) -> list[str]:
    """Lower-cased words and punctuation marks: the units BLEU counts here."""
    return _WORD.findall(text.lower())


def ngrams(tokens: Sequence[str], n: int) -> Counter[tuple[str, ...]]:
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


class ReferenceIndex:
    """Clipping counts and lengths of a reference set, with leave-one-out for self-BLEU."""

    def __init__(self, references: Sequence[Sequence[str]], max_n: int = 4):
        self.max_n = max_n
        self.lengths: Counter[int] = Counter(len(r) for r in references)
        # n-gram -> [highest count, index of the reference holding it, highest count elsewhere]
        self.best: dict[tuple[str, ...], list[int]] = {}
        for index, reference in enumerate(references):
            for n in range(1, max_n + 1):
                for gram, count in ngrams(reference, n).items():
                    entry = self.best.get(gram)
                    if entry is None:
                        self.best[gram] = [count, index, 0]
                    elif count > entry[0]:
                        self.best[gram] = [count, index, entry[0]]
                    elif count > entry[2]:
                        entry[2] = count

    def clip(self, gram: tuple[str, ...], exclude: int | None) -> int:
        entry = self.best.get(gram)
        if entry is None:
            return 0
        return entry[2] if entry[1] == exclude else entry[0]

    def closest_length(self, length: int, exclude_length: int | None) -> int:
        counts = self.lengths.copy()
        if exclude_length is not None:
            counts[exclude_length] -= 1
        candidates = [n for n, c in counts.items() if c > 0]
        return min(candidates, key=lambda n: (abs(n - length), n))

    def sentence_bleu(self, hypothesis: Sequence[str], exclude: int | None = None) -> float:
        """BLEU of one hypothesis; `exclude` leaves out the reference at that index."""
        if not hypothesis:
            return 0.0
        log_precision = 0.0
        for n in range(1, self.max_n + 1):
            counts = ngrams(hypothesis, n)
            matched = sum(min(c, self.clip(g, exclude)) for g, c in counts.items())
            total = max(1, sum(counts.values()))
            if matched == 0:
                if n == 1:
                    return 0.0
                log_precision += math.log(SMOOTHING_EPSILON / total) / self.max_n
            else:
                log_precision += math.log(matched / total) / self.max_n
        own_length = len(hypothesis) if exclude is not None else None
        ref_length = self.closest_length(len(hypothesis), own_length)
        c = len(hypothesis)
        brevity = 1.0 if c > ref_length else math.exp(1 - ref_length / c)
        return brevity * math.exp(log_precision)


def sentence_bleu(
    references: Sequence[Sequence[str]], hypothesis: Sequence[str], max_n: int = 4
) -> float:
    return ReferenceIndex(references, max_n).sentence_bleu(hypothesis)


def mean_bleu(
    hypotheses: Sequence[Sequence[str]], references: Sequence[Sequence[str]], max_n: int = 4
) -> float:
    """Average sentence BLEU of each hypothesis against the whole reference set (quality)."""
    index = ReferenceIndex(references, max_n)
    return sum(index.sentence_bleu(h) for h in hypotheses) / max(len(hypotheses), 1)


def self_bleu(sentences: Sequence[Sequence[str]], max_n: int = 4) -> float:
    """Average BLEU of each sentence against all the others (lower means more diverse)."""
    if len(sentences) < 2:
        raise ValueError("self-BLEU needs at least two sentences")
    index = ReferenceIndex(sentences, max_n)
    return sum(index.sentence_bleu(s, exclude=i) for i, s in enumerate(sentences)) / len(sentences)
