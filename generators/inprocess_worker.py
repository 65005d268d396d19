"""The in-process generator's worker: one thread, a bounded number of calls running or waiting
for it, and work that stops when its caller has stopped waiting.

A call beyond the bound fails at once (GeneratorOverloaded) instead of queueing behind minutes
of work on the event loop's default executor. A call that times out, or whose caller is
cancelled, is never started if it was still waiting, and otherwise stops at the model's next
step (`watched`), so the worker is free for the next call.
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, TypeVar

from generators.errors import GeneratorOverloaded, GeneratorTimeout

if TYPE_CHECKING:
    from generators.registry import ServedModel

T = TypeVar("T")

MAX_PENDING = 8
"""Calls running or waiting at once; at about a second a call, the last waits some seconds."""
RETRY_AFTER_S = 5.0


class GenerationCancelled(GeneratorTimeout):
    """Raised inside the worker when the caller of this work has stopped waiting for it."""


class WatchedModel:
    """A language model whose every step first checks that its caller still waits.

    Sampling, twists and style leads all step the model through `run`, so this is where work
    stops between two steps."""

    def __init__(self, model, cancelled: threading.Event):
        self.inner = model
        self.cancelled = cancelled

    def run(self, *args, **kwargs):
        if self.cancelled.is_set():
            raise GenerationCancelled("the caller stopped waiting for this generation")
        return self.inner.run(*args, **kwargs)

    def __getattr__(self, name: str):
        return getattr(self.inner, name)


def watched(served: ServedModel, cancelled: threading.Event) -> ServedModel:
    """`served` for one call, its model stopping once `cancelled` is set (the model itself is
    shared, not copied)."""
    checkpoint = dataclasses.replace(
        served.checkpoint, model=WatchedModel(served.checkpoint.model, cancelled)
    )
    return dataclasses.replace(served, checkpoint=checkpoint)


class BoundedWorker:
    def __init__(self, max_pending: int = MAX_PENDING, retry_after_s: float = RETRY_AFTER_S):
        if max_pending < 1:
            raise ValueError("max_pending must be at least 1")
        self.max_pending = max_pending
        self.retry_after_s = retry_after_s
        self._slots = threading.BoundedSemaphore(max_pending)
        self._pending = 0
        self._count_lock = threading.Lock()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="generator")

    @property
    def pending(self) -> int:
        """Calls running or waiting now (a timed-out call counts until its work has stopped)."""
        return self._pending

    async def run(self, work: Callable[[threading.Event], T], timeout_s: float) -> T:
        """`work(cancelled)` on the worker thread, within `timeout_s`; GeneratorOverloaded at
        once when `max_pending` calls are already running or waiting."""
        if not self._slots.acquire(blocking=False):
            raise GeneratorOverloaded(
                f"the generator is busy: {self.max_pending} requests are running or waiting",
                self.retry_after_s,
            )
        self._count(1)
        cancelled = threading.Event()
        try:
            future = self._executor.submit(_unless_cancelled, work, cancelled)
        except BaseException:
            self._free(None)
            raise
        future.add_done_callback(self._free)
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), timeout_s)
        except TimeoutError as exc:
            raise GeneratorTimeout(f"generation took longer than {timeout_s:g} s") from exc
        finally:
            cancelled.set()

    def shutdown(self) -> None:
        """Drop waiting calls; a running one stops at its next step once its caller leaves."""
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _count(self, change: int) -> None:
        with self._count_lock:
            self._pending += change

    def _free(self, _future) -> None:
        self._count(-1)
        self._slots.release()


def _unless_cancelled(work: Callable[[threading.Event], T], cancelled: threading.Event) -> T:
    """A call whose caller left while it waited does not start."""
    if cancelled.is_set():
        raise GenerationCancelled("the caller stopped waiting before this generation started")
    return work(cancelled)
