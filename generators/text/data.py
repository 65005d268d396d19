"""Token streams for language-model training with truncated backpropagation through time.

An epoch is the training documents in a seeded order, each encoded with seeded control-token
markup, concatenated, and cut into `batch_size` parallel streams. Window `i` of an epoch is the
same on every run with the same seed, so a resumed run continues from the exact data position.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence

import numpy as np
import torch

from generators.text.corpus import Document
from generators.text.markup import DocumentEncoder


class StreamBatcher:
    def __init__(
        self,
        documents: Sequence[Document],
        encoder: DocumentEncoder,
        batch_size: int,
        seq_len: int,
        seed: int = 0,
        genre_weights: dict[str, float] | None = None,
    ):
        if not documents:
            raise ValueError("no training documents")
        self.documents = list(documents)
        self.encoder = encoder
        self.batch_size = batch_size
        self.seq_len = seq_len
        self.seed = seed
        self.genre_weights = genre_weights or {}
        self._cache: tuple[int, np.ndarray] | None = None

    def epoch_streams(self, epoch: int) -> np.ndarray:
        """(batch_size, length) token ids for `epoch`, cached for the current epoch."""
        if self._cache is not None and self._cache[0] == epoch:
            return self._cache[1]
        order = self.epoch_order(epoch)
        pieces = []
        seen: dict[int, int] = {}
        for index in order:
            doc = self.documents[index]
            copy = seen[index] = seen.get(index, -1) + 1
            suffix = f":{copy}" if copy else ""
            rng = random.Random(f"{self.seed}:{epoch}:{index}{suffix}")
            pieces.append(np.asarray(self.encoder.encode(doc.text, doc.genre, doc.mood, rng)))
        stream = np.concatenate(pieces).astype(np.int64)
        per_stream = (len(stream) - 1) // self.batch_size
        if per_stream < self.seq_len + 1:
            # Tiny corpora (tests): repeat until every stream holds at least one window.
            repeats = (self.batch_size * (self.seq_len + 2)) // len(stream) + 1
            stream = np.tile(stream, repeats)
            per_stream = (len(stream) - 1) // self.batch_size
        streams = stream[: per_stream * self.batch_size + 1]
        inputs = streams[:-1].reshape(self.batch_size, per_stream)
        targets = streams[1:].reshape(self.batch_size, per_stream)
        both = np.stack([inputs, targets])
        self._cache = (epoch, both)
        return both

    def epoch_order(self, epoch: int) -> list[int]:
        """Document indices of an epoch in a seeded order; a genre weight w repeats each of its
        documents int(w) times plus once more with probability frac(w) (oversampling)."""
        rng = random.Random(f"{self.seed}:{epoch}:order")
        order = []
        for index, doc in enumerate(self.documents):
            weight = self.genre_weights.get(doc.genre, 1.0)
            copies = int(weight)
            if weight != copies and rng.random() < weight - copies:
                copies += 1
            order += [index] * copies
        rng.shuffle(order)
        return order

    def steps_in_epoch(self, epoch: int) -> int:
        return self.epoch_streams(epoch).shape[2] // self.seq_len

    def windows(self, epoch: int, start: int = 0) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """(inputs, targets) windows of `epoch` from window index `start`."""
        both = self.epoch_streams(epoch)
        for i in range(start, self.steps_in_epoch(epoch)):
            window = both[:, :, i * self.seq_len : (i + 1) * self.seq_len]
            yield torch.from_numpy(window[0].copy()), torch.from_numpy(window[1].copy())
