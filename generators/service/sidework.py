"""The bounded pool for CPU work that runs beside the scheduler's worker: twists, style leads,
sentence embeddings and moderation requests.

Unbounded, each of these took a thread of its own whatever the load, so a burst of twists was
never refused (it ran into the deadline: 504, not 503) and kept the CPU busy long after its
clients had left. Here at most `workers` run at once and `max_waiting` more wait; beyond that a
request is refused at once as overloaded (503 with Retry-After). A caller that stops waiting
(client gone, deadline passed) takes its work out of the queue if it has not started, and
work that checks its `Ticket` stops at the next check if it has.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from generators.errors import GeneratorOverloaded
from generators.service.metrics import ServiceMetrics

T = TypeVar("T")


class WorkStopped(Exception):
    """Raised inside work whose caller has stopped waiting (see `Ticket.check`)."""


class Ticket:
    """One piece of side work's cancellation flag: set on the loop, read by the worker."""

    def __init__(self) -> None:
        self.stopped = False

    def check(self) -> None:
        """Stop here if nobody waits for the result any more."""
        if self.stopped:
            raise WorkStopped


class SideWork:
    def __init__(
        self,
        metrics: ServiceMetrics,
        *,
        workers: int = 2,
        max_waiting: int = 32,
        retry_after_s: float = 1.0,
    ):
        self.metrics = metrics
        self.workers = workers
        self.max_waiting = max_waiting
        self.retry_after_s = retry_after_s
        self._executor = ThreadPoolExecutor(workers, thread_name_prefix="talewright-side")
        self._lock = threading.Lock()
        self._admitted = 0
        self._running = 0

    @property
    def running(self) -> int:
        return self._running

    @property
    def waiting(self) -> int:
        return self._admitted - self._running

    async def run(self, kind: str, work: Callable[[Ticket], T]) -> T:
        """Run `work(ticket)` on a pool thread and await its result; `kind` labels the metrics.

        Raises GeneratorOverloaded when every worker is busy and `max_waiting` others wait."""
        with self._lock:
            if self._admitted >= self.workers + self.max_waiting:
                self.metrics.side_work.labels(kind, "refused").inc()
                raise GeneratorOverloaded(
                    f"too much {kind} work waiting ({self.max_waiting}); retry shortly",
                    self.retry_after_s,
                )
            self._admitted += 1
        ticket = Ticket()
        future = self._executor.submit(self._call, kind, ticket, work)
        future.add_done_callback(lambda done: self._settled(kind, done))
        try:
            return await asyncio.wrap_future(future)
        finally:
            ticket.stopped = True  # a no-op once done; else the work stops at its next check

    def _call(self, kind: str, ticket: Ticket, work: Callable[[Ticket], T]) -> T:
        with self._lock:
            self._running += 1
        try:
            ticket.check()
            return work(ticket)
        finally:
            with self._lock:
                self._running -= 1

    def _settled(self, kind: str, future: Future) -> None:
        with self._lock:
            self._admitted -= 1
        error = None if future.cancelled() else future.exception()
        if future.cancelled():
            outcome = "dropped"  # left the queue before it started
        elif isinstance(error, WorkStopped):
            outcome = "stopped"
        else:
            outcome = "failed" if error else "done"
        self.metrics.side_work.labels(kind, outcome).inc()

    def shutdown(self) -> None:
        """Drop what waits; what runs finishes (or stops at its next ticket check)."""
        self._executor.shutdown(wait=False, cancel_futures=True)
