"""The Generator protocol and its implementations.

The story engine only ever sees `Generator`: whether the model runs in this process or behind the
HTTP service is a deployment choice it cannot observe.
"""

from __future__ import annotations

import asyncio
import functools
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from generators.errors import GeneratorError, GeneratorUnavailable
from generators.http_client import HttpGenerator as HttpGenerator
from generators.inprocess_worker import MAX_PENDING, BoundedWorker, watched
from generators.schemas import (
    EmbedRequest,
    EmbedResponse,
    GenerateRequest,
    GenerateResponse,
    ModelInfo,
    Timings,
)

if TYPE_CHECKING:
    from generators.latent import LatentTools
    from generators.model_specs import ModelSpec


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


@runtime_checkable
class StreamingGenerator(Protocol):
    """A generator that can also show a turn while it is written: `on_text(text so far)` is
    awaited as the first candidate grows, and the answer is the same as `generate`'s. Callers
    check for it with isinstance; generators without it simply answer at the end."""

    async def stream(
        self, request: GenerateRequest, on_text: Callable[[str], Awaitable[None]]
    ) -> GenerateResponse: ...


@runtime_checkable
class SentenceEmbedder(Protocol):
    """A generator that can also place texts in the sentence VAE's latent space (style memory).

    Raises NoSentenceModel when it serves no VAE, and the Generator exceptions otherwise."""

    async def embed(self, request: EmbedRequest) -> EmbedResponse: ...


class InProcessGenerator:
    """Runs checkpoints in this process; torch work happens in a worker thread, one at a time,
    with at most `max_pending` calls running or waiting (more are refused as overloaded), and
    a call that times out stops at the model's next step (generators.inprocess_worker).

    Candidates that moderation blocks are regenerated up to `max_regenerations` times with fresh
    seeds; when all attempts fail the response carries a safe fallback line (`fallback=True`).
    With a sentence VAE (`latent`), twists come from its latent space, `rerank="style"` works and
    `embed` answers; without one, twists are the language model's own.
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
        latent: LatentTools | None = None,
        max_pending: int = MAX_PENDING,
    ):
        self.registry = registry
        self.latent = latent
        self.moderator = moderator
        self.max_regenerations = max_regenerations
        self.prompt_budget = prompt_budget
        self.timeout_s = timeout_s
        self.rerankers = {**(latent.rerankers() if latent else {}), **(rerankers or {})}
        from generators.seqgan_rerank import DiscriminatorRerankers

        self.discriminators = DiscriminatorRerankers(registry)
        self._lock = threading.Lock()
        self._worker = BoundedWorker(max_pending)
        self._closed = False

    @classmethod
    def from_checkpoints(
        cls,
        paths: list[Path | str],
        device: str = "cpu",
        threads: int | None = None,
        vae: Path | str | None = None,
        models: Sequence[ModelSpec] = (),
        **kwargs,
    ) -> InProcessGenerator:
        """`paths` are Talewright checkpoints; `models` name more (a Hugging Face causal-LM
        folder among them: generators.served_models)."""
        import torch

        from generators.latent import load_latent
        from generators.registry import ModelRegistry
        from generators.served_models import add_model

        if threads:
            torch.set_num_threads(threads)
        registry = ModelRegistry(device)
        for path in paths:
            registry.load(path)
        for spec in models:
            add_model(registry, spec, torch.float32)
        latent = load_latent(None if vae is None else Path(vae), kwargs.get("moderator"))
        return cls(registry, latent=latent, **kwargs)

    async def generate(self, request: GenerateRequest) -> GenerateResponse:
        if self._closed:
            raise GeneratorUnavailable("the generator is closed")
        served = self.registry.get(request.model)
        served.prompt_budget(self.prompt_budget, request.params.max_tokens)
        self.discriminators.check(request, served)
        started = time.perf_counter()
        try:
            return await self._worker.run(
                functools.partial(self._generate_sync, served, request, started), self.timeout_s
            )
        except GeneratorError:
            raise
        except RuntimeError as exc:
            raise GeneratorUnavailable(f"generation failed: {exc}") from exc

    def _generate_sync(
        self, served, request: GenerateRequest, started: float, cancelled: threading.Event
    ) -> GenerateResponse:
        from generators import pipeline
        from generators.sampling import sample
        from generators.story_rerank import story_reranker

        served = watched(served, cancelled)
        with self._lock:
            queued = time.perf_counter()
            ranked = []
            for attempt in range(self.max_regenerations + 1):
                if request.kind == "twist" and self._plans_twists(served):
                    ranked = self.latent.twist(request, served, attempt)
                    if ranked:
                        break
                    continue
                budget = served.prompt_budget(self.prompt_budget, request.params.max_tokens)
                prepared = pipeline.prepare(request, served.tokenizer, budget, attempt)
                sequences = sample(
                    served.model,
                    served.tables,
                    prepared.prompt.ids,
                    prepared.settings,
                    prepared.prompt.stop,
                    n=len(prepared.seeds),
                    seed=prepared.seeds[0],
                    prefix_text=prepared.prompt.prefix_text,
                )
                candidates = pipeline.to_candidates(prepared, sequences)
                kept = pipeline.moderate_candidates(
                    candidates, self.moderator, request.moderation_level
                )
                if self.latent is not None and self.latent.leads_style(request, served):
                    kept += self.latent.style_led(request, served, attempt)
                if kept:
                    rerankers = {
                        **self.rerankers,
                        **self.discriminators.rerankers(request, served),
                        "story": story_reranker(served),
                    }
                    ranked = pipeline.rerank(request, kept, rerankers)[: request.params.n]
                    break
            done = time.perf_counter()
        timings = Timings(
            queue_ms=(queued - started) * 1000,
            generate_ms=(done - queued) * 1000,
            total_ms=(done - started) * 1000,
        )
        return pipeline.respond(request, served.id, ranked, timings)

    def _plans_twists(self, served) -> bool:
        return self.latent is not None and self.latent.plans_twists_for(served)

    async def embed(self, request: EmbedRequest) -> EmbedResponse:
        """Sentence vectors, beside any running generation (the VAE is only read: no lock)."""
        from generators.latent import require_latent

        if self._closed:
            raise GeneratorUnavailable("the generator is closed")
        tools = require_latent(self.latent)
        return await asyncio.to_thread(tools.embed, request)

    async def list_models(self) -> list[ModelInfo]:
        return [*self.registry.info(), *([self.latent.info()] if self.latent else [])]

    async def aclose(self) -> None:
        self._closed = True
        self._worker.shutdown()
