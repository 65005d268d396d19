"""The Generator protocol and its implementations.

The story engine only ever sees `Generator`: whether the model runs in this process or behind the
HTTP service is a deployment choice it cannot observe.
"""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Protocol, runtime_checkable

from generators.errors import GeneratorError, GeneratorTimeout, GeneratorUnavailable
from generators.http_client import HttpGenerator as HttpGenerator
from generators.schemas import GenerateRequest, GenerateResponse, ModelInfo, Timings


@runtime_checkable
class Generator(Protocol):
    """Anything that turns a GenerateRequest into a GenerateResponse.

    Implementations raise the exceptions of `generators.errors`: GeneratorUnavailable (and its
    subclasses GeneratorTimeout, GeneratorOverloaded) when they cannot serve now, and
    InvalidGenerationRequest when the request itself is wrong.
    """

    async def generate(self, request: GenerateRequest) -> GenerateResponse: ...

    async def list_models(self) -> list[ModelInfo]: ...

    async def aclose(self) -> None: ...


class InProcessGenerator:
    """Runs checkpoints in this process; torch work happens in a worker thread, one at a time.

    Candidates that moderation blocks are regenerated up to `max_regenerations` times with fresh
    seeds; when all attempts fail the response carries a safe fallback line (`fallback=True`).
    """

    def __init__(
        self,
        registry,
        *,
        moderator=None,
        max_regenerations: int = 2,
        prompt_budget: int = 384,
        timeout_s: float = 60.0,
        rerankers: dict | None = None,
    ):
        self.registry = registry
        self.moderator = moderator
        self.max_regenerations = max_regenerations
        self.prompt_budget = prompt_budget
        self.timeout_s = timeout_s
        self.rerankers = rerankers or {}
        self._lock = threading.Lock()
        self._closed = False

    @classmethod
    def from_checkpoints(
        cls, paths: list[Path | str], device: str = "cpu", threads: int | None = None, **kwargs
    ) -> InProcessGenerator:
        import torch

        from generators.registry import ModelRegistry

        if threads:
            torch.set_num_threads(threads)
        registry = ModelRegistry(device)
        for path in paths:
            registry.load(path)
        return cls(registry, **kwargs)

    async def generate(self, request: GenerateRequest) -> GenerateResponse:
        if self._closed:
            raise GeneratorUnavailable("the generator is closed")
        served = self.registry.get(request.model)
        started = time.perf_counter()
        try:
            return await asyncio.wait_for(
                asyncio.to_thread(self._generate_sync, served, request, started), self.timeout_s
            )
        except TimeoutError as exc:
            raise GeneratorTimeout(f"generation took longer than {self.timeout_s:.0f} s") from exc
        except GeneratorError:
            raise
        except RuntimeError as exc:
            raise GeneratorUnavailable(f"generation failed: {exc}") from exc

    def _generate_sync(self, served, request: GenerateRequest, started: float) -> GenerateResponse:
        from generators import pipeline
        from generators.sampling import sample

        with self._lock:
            queued = time.perf_counter()
            ranked = []
            for attempt in range(self.max_regenerations + 1):
                prepared = pipeline.prepare(request, served.tokenizer, self.prompt_budget, attempt)
                sequences = sample(
                    served.model,
                    served.tables,
                    prepared.prompt.ids,
                    prepared.settings,
                    prepared.prompt.stop,
                    n=request.params.n,
                    seed=prepared.seeds[0],
                    prefix_text=prepared.prompt.prefix_text,
                )
                candidates = pipeline.to_candidates(prepared, sequences)
                kept = pipeline.moderate_candidates(
                    candidates, self.moderator, request.moderation_level
                )
                if kept:
                    ranked = pipeline.rerank(request, kept, self.rerankers)
                    break
            done = time.perf_counter()
        timings = Timings(
            queue_ms=(queued - started) * 1000,
            generate_ms=(done - queued) * 1000,
            total_ms=(done - started) * 1000,
        )
        return pipeline.respond(request, served.id, ranked, timings)

    async def list_models(self) -> list[ModelInfo]:
        return self.registry.info()

    async def aclose(self) -> None:
        self._closed = True
