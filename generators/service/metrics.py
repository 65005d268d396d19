"""Prometheus metrics of one service instance, in a registry of its own (several apps may share a
process, as in the tests)."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

CONTENT_TYPE = CONTENT_TYPE_LATEST
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096)
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 30, 60, 120)


class RateMeter:
    """Events per second over a sliding window (written by the worker, read at scrape time)."""

    def __init__(self, window_s: float = 10.0):
        self.window_s = window_s
        self._events: deque[tuple[float, int]] = deque()
        self._lock = threading.Lock()

    def add(self, count: int) -> None:
        now = time.monotonic()
        with self._lock:
            self._events.append((now, count))
            self._trim(now)

    def rate(self) -> float:
        now = time.monotonic()
        with self._lock:
            self._trim(now)
            return sum(count for _, count in self._events) / self.window_s

    def _trim(self, now: float) -> None:
        while self._events and self._events[0][0] < now - self.window_s:
            self._events.popleft()


class ServiceMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "talewright_requests",
            "HTTP requests by endpoint and status",
            ["endpoint", "status"],
            registry=r,
        )
        self.latency = Histogram(
            "talewright_request_latency_seconds",
            "HTTP request latency",
            ["endpoint"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.queue_depth = Gauge("talewright_queue_depth", "requests waiting", registry=r)
        self.active_sequences = Gauge(
            "talewright_active_sequences", "candidates being generated now", registry=r
        )
        self.batch_size = Histogram(
            "talewright_batch_size", "sequences per model step", buckets=BATCH_BUCKETS, registry=r
        )
        self.scoring_batch_size = Histogram(
            "talewright_scoring_batch_size",
            "requests' reads after a prompt (story reranker, retrieval) done together",
            buckets=BATCH_BUCKETS,
            registry=r,
        )
        self.tokens = Counter("talewright_generated_tokens", "tokens sampled", registry=r)
        self.tokens_per_second = Gauge(
            "talewright_tokens_per_second", "tokens sampled per second, last 10 s", registry=r
        )
        self.verdicts = Counter(
            "talewright_moderation_verdicts",
            "moderation verdicts",
            ["source", "verdict"],
            registry=r,
        )
        self.regenerations = Counter(
            "talewright_regenerations",
            "attempts repeated because every candidate was blocked",
            registry=r,
        )
        self.twist_seconds = Histogram(
            "talewright_twist_seconds",
            "seconds to plan one twist attempt in the sentence VAE's latent space",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.fallbacks = Counter(
            "talewright_fallbacks", "responses with the safe fallback line", registry=r
        )
        self.side_work = Counter(
            "talewright_side_work",
            "twists, style leads, embeddings and moderation beside the batch, by outcome "
            "(done, failed, refused: queue full, dropped: left the queue, stopped: midway)",
            ["kind", "outcome"],
            registry=r,
        )
        self.side_running = Gauge(
            "talewright_side_work_running", "side work running now", registry=r
        )
        self.side_waiting = Gauge(
            "talewright_side_work_waiting", "side work waiting for a thread", registry=r
        )
        self._rate = RateMeter()
        self.tokens_per_second.set_function(self._rate.rate)

    def watch(self, queue_depth: Callable[[], float], active: Callable[[], float]) -> None:
        """Read the scheduler's numbers at scrape time."""
        self.queue_depth.set_function(queue_depth)
        self.active_sequences.set_function(active)

    def watch_side_work(self, running: Callable[[], float], waiting: Callable[[], float]) -> None:
        self.side_running.set_function(running)
        self.side_waiting.set_function(waiting)

    def count_tokens(self, count: int) -> None:
        self.tokens.inc(count)
        self._rate.add(count)

    def render(self) -> bytes:
        return generate_latest(self.registry)
