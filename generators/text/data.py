"""Token streams for language-model training with truncated backpropagation through time.

An epoch is the training documents in a seeded order, each encoded with seeded control-token
markup, concatenated, and cut into `batch_size` parallel streams. Window `i` of an epoch is the
same on every run with the same seed, so a resumed run continues from the exact data position.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

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
        workers: int = 0,
    ):
        """`workers` > 0 encodes that many epochs ahead in worker processes: on an H200 an
        epoch of the corpus trains in about 7 s and one core takes 10-15 s to encode the next,
        so encoding in line would leave the GPU idle more than half the time. The windows are
        the same either way."""
        if not documents:
            raise ValueError("no training documents")
        self.documents = list(documents)
        self.encoder = encoder
        self.batch_size = batch_size
        self.seq_len = seq_len
        self.seed = seed
        self.genre_weights = genre_weights or {}
        self.workers = workers
        self._cache: tuple[int, np.ndarray] | None = None
        self._pool: ProcessPoolExecutor | None = None
        self._ahead: dict[int, Future[np.ndarray]] = {}

    def __getstate__(self) -> dict[str, Any]:
        """What a worker process needs: the documents and encoder, not the pool or caches."""
        state = dict(self.__dict__)
        state.update(_cache=None, _pool=None, _ahead={}, workers=0)
        return state

    def epoch_streams(self, epoch: int) -> np.ndarray:
        """(2, batch_size, length) input and target ids for `epoch`, cached for the current
        epoch; with workers, the next epochs are already being encoded."""
        if self._cache is not None and self._cache[0] == epoch:
            return self._cache[1]
        pending = self._ahead.pop(epoch, None)
        both = pending.result() if pending is not None else self.encode_epoch(epoch)
        self._cache = (epoch, both)
        self._encode_ahead(epoch)
        return both

    def _encode_ahead(self, epoch: int) -> None:
        if self.workers <= 0:
            return
        if self._pool is None:
            # spawn, not fork: the trainer may already hold a CUDA context and threads.
            context = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(
                self.workers, mp_context=context, initializer=_adopt, initargs=(self, os.getpid())
            )
        for stale in [e for e in self._ahead if e <= epoch]:
            self._ahead.pop(stale).cancel()
        for ahead in range(epoch + 1, epoch + 1 + self.workers):
            if ahead not in self._ahead:
                self._ahead[ahead] = self._pool.submit(_encode_epoch, ahead)

    def close(self) -> None:
        """Stop the workers (they also stop with the process)."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
            self._ahead.clear()

    def encode_epoch(self, epoch: int) -> np.ndarray:
        """Encode `epoch` here and now: (2, batch_size, length) input and target ids."""
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
        return np.stack([inputs, targets])

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


_WORKER_BATCHER: StreamBatcher | None = None


def _adopt(batcher: StreamBatcher, parent: int) -> None:
    global _WORKER_BATCHER
    _WORKER_BATCHER = batcher
    threading.Thread(target=_exit_with, args=(parent,), daemon=True).start()


def _exit_with(parent: int) -> None:
    """A worker waits on its pool's queue and would outlive a trainer that was killed outright
    (the OOM killer, kill -9), holding a copy of the corpus: it leaves once its parent is gone."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(0)


def _encode_epoch(epoch: int) -> np.ndarray:
    assert _WORKER_BATCHER is not None, "worker started without its batcher"
    return _WORKER_BATCHER.encode_epoch(epoch)
