"""Continuous batching: one worker thread per device runs every torch call.

The event loop only submits jobs and awaits their futures. Between steps the worker admits
waiting jobs (FIFO, while the live rows stay within `max_batch`), reads their prompts together
(each once) and adds their candidates as rows; then it advances every model's rows with one
model call each.
Finished rows leave at once; cancelled jobs (client gone, deadline passed) are dropped before
the next step. With `batching=False` one job runs at a time: the baseline the bench compares to.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque

import torch

from generators.errors import (
    GenerationFailed,
    GeneratorError,
    GeneratorOverloaded,
    GeneratorUnavailable,
)
from generators.service.batch import LiveBatch
from generators.service.jobs import Job
from generators.service.metrics import ServiceMetrics

log = logging.getLogger(__name__)


class Scheduler:
    def __init__(
        self,
        device: torch.device,
        metrics: ServiceMetrics,
        *,
        max_batch: int = 64,
        max_queue: int = 256,
        batching: bool = True,
        retry_after_s: float = 1.0,
        autocast: torch.dtype | None = None,
    ):
        self.device = device
        self.autocast = autocast
        self.metrics = metrics
        self.max_batch = max_batch
        self.max_queue = max_queue
        self.batching = batching
        self.retry_after_s = retry_after_s
        self._pending: deque[Job] = deque()
        self._batches: dict[str, LiveBatch] = {}
        self._cond = threading.Condition()
        self._stopping = False
        self._cancel_seen = False
        self._live_rows = 0
        self._thread = threading.Thread(target=self._run, name=f"talewright-{device}", daemon=True)

    @property
    def queue_depth(self) -> int:
        return len(self._pending)

    @property
    def live_rows(self) -> int:
        return self._live_rows

    @property
    def saturated(self) -> bool:
        return len(self._pending) >= self.max_queue

    @property
    def running(self) -> bool:
        return self._thread.is_alive() and not self._stopping

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop the worker; every job still queued or live fails as unavailable."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout_s)

    def submit(self, job: Job) -> None:
        """Queue a job (event loop). A full queue refuses new work; regenerations go first."""
        with self._cond:
            if self._stopping:
                raise GeneratorUnavailable("the generator is shutting down")
            if job.priority:
                self._pending.appendleft(job)
            elif len(self._pending) >= self.max_queue:
                raise GeneratorOverloaded(
                    f"generation queue is full ({self.max_queue} waiting)", self.retry_after_s
                )
            else:
                self._pending.append(job)
            self._cond.notify()

    def cancel(self, job: Job) -> None:
        """Free a job's queue slot or batch rows (event loop); the worker drops them."""
        if job.cancelled:
            return
        job.cancelled = True
        with self._cond:
            self._cancel_seen = True
            self._cond.notify()

    def _run(self) -> None:
        with (
            torch.inference_mode(),
            torch.autocast(
                self.device.type,
                dtype=self.autocast or torch.bfloat16,
                enabled=self.autocast is not None,
            ),
        ):
            while self._round():
                pass
        self._fail_all(GeneratorUnavailable("the generator is shutting down"))

    def _round(self) -> bool:
        """Admit, drop cancelled rows, step every model once; False once stopping."""
        with self._cond:
            while not (self._stopping or self._pending or self._live_rows):
                self._cond.wait()
            if self._stopping:
                return False
            admitted = self._take_admissible()
        try:
            if admitted:
                self._admit(admitted)
            with self._cond:  # after admitting: a caller that left meanwhile takes no step
                dropping, self._cancel_seen = self._cancel_seen, False
            if dropping:
                for batch in self._batches.values():
                    batch.keep_jobs(lambda job: not job.cancelled)
            for batch in self._batches.values():
                if len(batch):
                    self._step(batch)
        except Exception as exc:  # a bug outside one request: fail the live ones, keep serving
            log.exception("the scheduler failed; failing the requests in progress")
            self._fail_live(GenerationFailed(f"generation failed: {exc}"))
        self._live_rows = sum(len(b) for b in self._batches.values())
        return True

    def _take_admissible(self) -> list[Job]:
        taken: list[Job] = []
        rows = self._live_rows
        while self._pending:
            job = self._pending[0]
            if job.cancelled:
                self._pending.popleft()
                continue
            if rows and (not self.batching or rows + job.n > self.max_batch):
                break
            taken.append(self._pending.popleft())
            rows += job.n
        return taken

    def _admit(self, jobs: list[Job]) -> None:
        """Read the new prompts of each model together; if that fails, read them one by one so
        that only the request that breaks fails."""
        now = time.perf_counter()
        by_model: dict[str, list[Job]] = {}
        for job in jobs:
            job.admitted_at = now
            by_model.setdefault(job.served.id, []).append(job)
        for model_id, group in by_model.items():
            batch = self._batches.get(model_id)
            if batch is None:
                batch = self._batches[model_id] = LiveBatch(group[0].served, self.device)
            try:
                batch.admit(group)
                continue
            except Exception:
                log.exception("reading %d prompts together failed; reading them alone", len(group))
            for job in group:
                try:
                    batch.admit([job])
                except Exception as exc:
                    log.exception("prefill failed for one request")
                    job.settle(error=GenerationFailed(f"generation failed: {exc}"))

    def _step(self, batch: LiveBatch) -> None:
        self.metrics.batch_size.observe(len(batch))
        rows = len(batch)
        streamed = {job for job in batch.jobs if job.progress is not None}
        try:
            done = batch.step()
        except Exception:
            log.exception("a batched step failed; retrying its requests one by one")
            done = self._isolate(batch)
        self.metrics.count_tokens(rows)
        for job in streamed:
            job.report_progress()
        now = time.perf_counter()
        for job in done:
            job.finished_at = now
            job.settle(job.sequences)

    def _isolate(self, batch: LiveBatch) -> set[Job]:
        """Step each job's rows alone: the job that still fails is failed, the rest go on."""
        done: set[Job] = set()
        parts = batch.split()
        for part in parts:
            try:
                done |= part.step()
            except Exception as exc:
                job = part.jobs[0]
                log.exception("generation failed for one request")
                job.settle(error=GenerationFailed(f"generation failed: {exc}"))
                part.keep([])
        batch.merge(parts)
        return done

    def _fail_all(self, error: GeneratorError) -> None:
        with self._cond:
            waiting = list(self._pending)
            self._pending.clear()
        for job in waiting:
            job.settle(error=error)
        self._fail_live(error)

    def _fail_live(self, error: GeneratorError) -> None:
        for job in {job for batch in self._batches.values() for job in batch.jobs}:
            job.settle(error=error)
        self._batches.clear()
        self._live_rows = 0
