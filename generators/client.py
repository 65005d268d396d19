"""The Generator protocol and its implementations.

The story engine only ever sees `Generator`: whether the model runs in this process or behind the
HTTP service is a deployment choice it cannot observe.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar, runtime_checkable

from generators.context_size import MAX_CONTEXT_CHARS
from generators.errors import (
    GenerationFailed,
    GeneratorError,
    GeneratorTimeout,
    GeneratorUnavailable,
)
from generators.http_client import HttpGenerator as HttpGenerator
from generators.schemas import (
    EmbedRequest,
    EmbedResponse,
    GenerateRequest,
    GenerateResponse,
    ModelInfo,
)

if TYPE_CHECKING:
    from generators.inference.latent import LatentTools
    from generators.inference.model_specs import ModelSpec
    from generators.retrieval.source import RetrievalSource

T = TypeVar("T")

MAX_PENDING = 64
"""In-process requests waiting for a place in the batch at once; more are refused."""
MAX_BATCH = 64
"""Candidate rows the in-process batch advances together (the service's default too)."""
RETRY_AFTER_S = 5.0


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
    """Runs checkpoints in this process through the same engine as the HTTP service
    (generators.inference.orchestration): a continuous-batching scheduler on its own thread, so
    stories asking at once share model steps, and twists, style leads and embeddings on side-work
    threads. Nothing starts until the first request.

    At most `max_pending` requests wait for a place in the batch (of `max_batch` rows); more
    are refused at once as overloaded. A call that takes longer than `timeout_s`, or whose
    caller is cancelled, leaves the batch before the model's next step. A context over
    `max_context_chars` is refused (ContextTooLarge), as the service refuses it.

    Candidates that moderation blocks are regenerated up to `max_regenerations` times with fresh
    seeds; when all attempts fail the response carries a safe fallback line (`fallback=True`).
    With a sentence VAE (`latent`), twists come from its latent space, `rerank="style"` works and
    `embed` answers; without one, twists are the language model's own. `metrics` holds the
    service's Prometheus metrics for this generator. `batching=False` runs one request at a
    time (the serial baseline bench/concurrency.py compares to).
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
        max_batch: int = MAX_BATCH,
        max_context_chars: int = MAX_CONTEXT_CHARS,
        batching: bool = True,
        retrieval: RetrievalSource | None = None,
    ):
        from generators.inference.orchestration import GenerationEngine
        from generators.service.metrics import ServiceMetrics
        from generators.service.scheduler import Scheduler
        from generators.service.sidework import SideWork

        if max_pending < 1:
            raise ValueError("max_pending must be at least 1")
        self.timeout_s = timeout_s
        self.metrics = ServiceMetrics()
        self.scheduler = Scheduler(
            registry.device,
            self.metrics,
            max_batch=max_batch,
            max_queue=max_pending,
            batching=batching,
            retry_after_s=RETRY_AFTER_S,
        )
        side = SideWork(self.metrics)
        self.metrics.watch(lambda: self.scheduler.queue_depth, lambda: self.scheduler.live_rows)
        self.metrics.watch_side_work(lambda: side.running, lambda: side.waiting)
        self.engine = GenerationEngine(
            registry,
            self.scheduler,
            self.metrics,
            moderator,
            max_context_chars=max_context_chars,
            prompt_budget=prompt_budget,
            max_regenerations=max_regenerations,
            latent=latent,
            side=side,
            rerankers=rerankers,
            retrieval=retrieval,
        )
        self._start_lock = threading.Lock()
        self._started = False
        self._closed = False

    @property
    def registry(self):
        return self.engine.registry

    @property
    def latent(self) -> LatentTools | None:
        return self.engine.latent

    @property
    def prompt_budget(self) -> int:
        return self.engine.prompt_budget

    @classmethod
    def from_checkpoints(
        cls,
        paths: list[Path | str],
        device: str = "cpu",
        threads: int | None = None,
        vae: Path | str | None = None,
        models: Sequence[ModelSpec] = (),
        retrieval_index: Path | str | Literal["default"] | None = "default",
        **kwargs,
    ) -> InProcessGenerator:
        """`paths` are Talewright checkpoints; `models` name more (a Hugging Face causal-LM
        folder among them: generators.inference.served_models). `retrieval_index`: the passage index
        (`default`: generators.paths.retrieval_index(), used when it has been built)."""
        import torch

        from generators.inference.latent import load_latent
        from generators.inference.registry import ModelRegistry
        from generators.inference.served_models import add_model
        from generators.paths import retrieval_index as default_retrieval_index
        from generators.retrieval.source import load_retrieval

        if threads:
            torch.set_num_threads(threads)
        registry = ModelRegistry(device)
        for path in paths:
            registry.load(path)
        for spec in models:
            add_model(registry, spec, torch.float32)
        latent = load_latent(None if vae is None else Path(vae), kwargs.get("moderator"))
        if retrieval_index == "default":
            retrieval_index = default_retrieval_index()
        retrieval = load_retrieval(None if retrieval_index is None else Path(retrieval_index))
        return cls(registry, latent=latent, retrieval=retrieval, **kwargs)

    async def generate(self, request: GenerateRequest) -> GenerateResponse:
        self._start()
        return await self._within_timeout(self.engine.generate(request))

    async def embed(self, request: EmbedRequest) -> EmbedResponse:
        """Sentence vectors, on a side-work thread beside any running generation."""
        self._start()
        return await self._within_timeout(self.engine.embed(request))

    async def list_models(self) -> list[ModelInfo]:
        return self.engine.models()

    async def aclose(self) -> None:
        self._closed = True
        self.engine.side.shutdown()
        await asyncio.to_thread(self.engine.scoring.stop)
        if self._started:
            await asyncio.to_thread(self.scheduler.stop)

    def _start(self) -> None:
        """Start the scheduler's thread on first use; refuse once closed."""
        with self._start_lock:
            if self._closed:
                raise GeneratorUnavailable("the generator is closed")
            if not self._started:
                self.scheduler.start()
                self._started = True

    async def _within_timeout(self, work: Coroutine[Any, Any, T]) -> T:
        """Await `work`; past `timeout_s` it is cancelled (its rows leave the batch, its side
        work stops at the next step) and the caller gets GeneratorTimeout. A failure that is
        not a GeneratorError becomes GenerationFailed, as the service answers it with a 500."""
        try:
            async with asyncio.timeout(self.timeout_s):
                return await work
        except TimeoutError as exc:
            raise GeneratorTimeout(f"generation took longer than {self.timeout_s:g} s") from exc
        except GeneratorError:
            raise
        except RuntimeError as exc:
            raise GenerationFailed(f"generation failed: {exc}") from exc
