"""One generation attempt as the scheduler sees it: what to sample and where to report back."""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field

import torch

from generators.inference.pipeline import PreparedRequest
from generators.inference.registry import ServedModel
from generators.inference.sampling import Sequence


@dataclass(eq=False)
class Job:
    """The candidates of one request for one attempt.

    Created on the event loop; after `submit` only the worker thread touches `sequences` and the
    timestamps, and it reports through `future` (set on the loop via `call_soon_threadsafe`).
    `cancelled` is the one field both sides write: the loop sets it, the worker drops the rows.
    """

    prepared: PreparedRequest
    served: ServedModel
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future
    priority: bool = False
    submitted_at: float = field(default_factory=time.perf_counter)
    admitted_at: float | None = None
    finished_at: float | None = None
    sequences: list[Sequence] = field(default_factory=list)
    cancelled: bool = False
    progress: asyncio.Queue[list[list[int]]] | None = None
    """For a streamed request: after every step, each candidate's tokens so far."""

    @property
    def n(self) -> int:
        return len(self.prepared.seeds)

    @property
    def queued_s(self) -> float:
        """Seconds from submission to admission (read once the job has finished)."""
        return (self.admitted_at or self.submitted_at) - self.submitted_at

    @property
    def generating_s(self) -> float:
        """Seconds from admission to the last finished candidate (likewise)."""
        return (self.finished_at or self.submitted_at) - (self.admitted_at or self.submitted_at)

    def new_sequences(self) -> list[Sequence]:
        """One sequence per seed, each with its own generator: batch-mates cannot shift it."""
        prompt = self.prepared.prompt
        return [
            Sequence(
                prompt.ids,
                self.prepared.settings,
                prompt.stop,
                torch.Generator().manual_seed(seed),
                prompt.prefix_text,
            )
            for seed in self.prepared.seeds
        ]

    def report_progress(self) -> None:
        """Post a copy of each candidate's tokens to `progress` (worker thread, after a step)."""
        if self.progress is None:
            return
        snapshot = [list(s.tokens) for s in self.sequences]
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody is reading any more
            self.loop.call_soon_threadsafe(self.progress.put_nowait, snapshot)

    def settle(self, result: list[Sequence] | None = None, error: BaseException | None = None):
        """Hand the outcome to the event loop (callable from any thread)."""

        def apply() -> None:
            if self.future.done():
                return
            if error is not None:
                self.future.set_exception(error)
            else:
                self.future.set_result(result)

        with contextlib.suppress(RuntimeError):  # a closed loop: nobody is waiting any more
            self.loop.call_soon_threadsafe(apply)
