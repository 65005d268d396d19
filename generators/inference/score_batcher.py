"""Reading candidates after a prompt for many requests at once, on one thread.

The `story` reranker reads each request's candidates after the story's prompt (with the
continuous cache's recall, which the sampler's own scores lack) and after a story-less one, and
retrieval reads its passages after the story's prompt. Run by each request on a thread of its
own, ten or thirty such readings ran at once beside the scheduler's worker, each with torch's
own threads, on two cores; here they queue, and one thread reads every call waiting (at most
`max_calls`, after a `window_s` wait for company when only one waits) with
`logprobs_after_many`: each distinct prompt once, the continuations of all of them in a few
padded calls. Scores equal `logprobs_after`'s up to float rounding.

A call whose `Ticket` is stopped (its caller timed out or was cancelled) leaves the queue
unread and raises WorkStopped in the waiting thread; one that was already being read finishes
with its batch. When a batch fails its calls are read one by one, so only a call that breaks
fails. `batching=False` reads one call at a time (the serial baseline of bench/concurrency.py).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field

import torch

from generators.errors import GeneratorUnavailable
from generators.inference.continuation_scoring import PairScore, logprobs_after_many
from generators.service.sidework import Ticket, WorkStopped

log = logging.getLogger(__name__)

WINDOW_S = 0.005
"""How long a lone call waits for others: little beside its reading (a story's five
candidates take a tenth of a second or more on two cores)."""
MAX_CALLS = 64


@dataclass
class ScoreCall:
    model: torch.nn.Module
    prompt: Sequence[int]
    continuations: Sequence[Sequence[int]]
    ticket: Ticket | None
    future: Future[list[PairScore]] = field(default_factory=Future)


class ScoreBatcher:
    def __init__(
        self,
        *,
        batching: bool = True,
        window_s: float = WINDOW_S,
        max_calls: int = MAX_CALLS,
        on_batch: Callable[[int], None] | None = None,
    ):
        self.on_batch = on_batch
        """Told each batch's number of calls (the engine's metrics)."""
        self.max_calls = max_calls if batching else 1
        self.window_s = window_s if batching else 0.0
        self._waiting: deque[ScoreCall] = deque()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopping = False

    @property
    def stopping(self) -> bool:
        return self._stopping

    def score_after(
        self,
        model: torch.nn.Module,
        prompt: Sequence[int],
        continuations: Sequence[Sequence[int]],
        ticket: Ticket | None = None,
    ) -> list[PairScore]:
        """`logprobs_after(model, prompt, continuations)`, read in a batch with whatever other
        calls wait. Blocks its (worker) thread; raises WorkStopped once `ticket` is stopped
        before the call was read, GeneratorUnavailable once the batcher is stopped."""
        return self.submit(model, prompt, continuations, ticket).result()

    async def score(
        self,
        model: torch.nn.Module,
        prompt: Sequence[int],
        continuations: Sequence[Sequence[int]],
    ) -> list[PairScore]:
        """`score_after` for the event loop; a cancelled wait takes the call out of the queue."""
        return await asyncio.wrap_future(self.submit(model, prompt, continuations))

    def submit(
        self,
        model: torch.nn.Module,
        prompt: Sequence[int],
        continuations: Sequence[Sequence[int]],
        ticket: Ticket | None = None,
    ) -> Future[list[PairScore]]:
        """Queue a call; its future is cancelled (or `ticket` stopped) to take it back."""
        call = ScoreCall(model, prompt, continuations, ticket)
        if not any(continuations):
            call.future.set_result([PairScore(0.0, 0)] * len(continuations))
            return call.future
        with self._cond:
            if self._stopping:
                raise GeneratorUnavailable("the generator is shutting down")
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="talewright-scoring", daemon=True
                )
                self._thread.start()
            self._waiting.append(call)
            self._cond.notify_all()
        return call.future

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop the thread; calls still waiting fail as unavailable."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None and thread.is_alive():
            thread.join(timeout_s)
        with self._cond:
            left, self._waiting = list(self._waiting), deque()
        for call in left:
            if call.future.set_running_or_notify_cancel():
                call.future.set_exception(GeneratorUnavailable("the generator is shutting down"))

    def _run(self) -> None:
        with torch.inference_mode():
            while (calls := self._take()) is not None:
                try:
                    self._read(calls)
                except Exception as exc:  # a bug outside one call: fail these, keep reading
                    log.exception("the scoring thread failed")
                    for call in calls:
                        if not call.future.done():
                            call.future.set_exception(exc)

    def _take(self) -> list[ScoreCall] | None:
        """The next batch: every live call waiting (up to `max_calls`) for the first one's
        model; None once stopping."""
        with self._cond:
            while not (self._stopping or self._waiting):
                self._cond.wait()
            deadline = time.monotonic() + self.window_s
            while not self._stopping and len(self._waiting) < self.max_calls:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
            if self._stopping:
                return None
            taken: list[ScoreCall] = []
            kept: deque[ScoreCall] = deque()
            model = None
            for call in self._waiting:
                if call.future.cancelled() or (call.ticket is not None and call.ticket.stopped):
                    if call.future.set_running_or_notify_cancel():
                        call.future.set_exception(WorkStopped())
                elif len(taken) < self.max_calls and (model is None or call.model is model):
                    if call.future.set_running_or_notify_cancel():
                        model = call.model
                        taken.append(call)
                else:
                    kept.append(call)
            self._waiting = kept
        return taken

    def _read(self, calls: list[ScoreCall]) -> None:
        if not calls:
            return
        if self.on_batch is not None:
            self.on_batch(len(calls))
        try:
            scores = logprobs_after_many(
                calls[0].model, [(c.prompt, c.continuations) for c in calls]
            )
        except Exception as exc:
            if len(calls) == 1:
                calls[0].future.set_exception(exc)
                return
            log.exception(
                "reading %d scoring calls together failed; reading them alone", len(calls)
            )
            for call in calls:
                self._read([call])
            return
        for call, score in zip(calls, scores, strict=True):
            call.future.set_result(score)
