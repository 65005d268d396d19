"""The one generation engine: check, prepare, batch, lead, moderate, rerank, respond.

Both front doors drive it: the HTTP service (generators.service.app) and the in-process
generator (generators.client), each over its own continuous-batching `Scheduler`, so limits,
metrics and errors are the same whichever a deployment uses.

Tokenizing the prompt and moderating the candidates run in the default thread pool, torch runs
on the scheduler's worker, twists and style leads on side-work threads, so the event loop only
awaits. What the `story` reranker and retrieval read after a prompt (candidates after the
story-less prompt, passages after the story's) goes to one `ScoreBatcher`, which reads the calls
of concurrent requests together.

When moderation blocks every candidate the request goes back to the front of the queue with the
next attempt's seeds, up to `max_regenerations` times, and is then answered with the safe
fallback line.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time

from generators.context_size import MAX_CONTEXT_CHARS, context_chars
from generators.errors import ContextTooLarge, GeneratorOverloaded
from generators.inference import pipeline
from generators.inference.latent import LatentTools, require_latent
from generators.inference.registry import ModelRegistry, ServedModel
from generators.inference.sampling import Sequence
from generators.inference.score_batcher import ScoreBatcher
from generators.inference.seqgan_rerank import DiscriminatorRerankers
from generators.inference.story_rerank import story_reranker
from generators.retrieval.source import RetrievalSource, as_candidates, passage_ids
from generators.schemas import (
    Candidate,
    EmbedRequest,
    EmbedResponse,
    GenerateRequest,
    GenerateResponse,
    ModelInfo,
    ModerationVerdict,
    Timings,
)
from generators.service.jobs import Job
from generators.service.metrics import ServiceMetrics
from generators.service.scheduler import Scheduler
from generators.service.sidework import SideWork, Ticket

EMBED_CHUNK = 8
"""Texts per embedding call: a 64 x 8,000-character request took 7 s of CPU in one call."""


class GenerationEngine:
    def __init__(
        self,
        registry: ModelRegistry,
        scheduler: Scheduler,
        metrics: ServiceMetrics,
        moderator,
        *,
        max_context_chars: int = MAX_CONTEXT_CHARS,
        prompt_budget: int = 384,
        max_regenerations: int = 2,
        latent: LatentTools | None = None,
        side: SideWork | None = None,
        rerankers: dict[str, pipeline.Reranker] | None = None,
        retrieval: RetrievalSource | None = None,
    ):
        self.registry = registry
        self.scheduler = scheduler
        self.metrics = metrics
        self.moderator = moderator
        self.max_context_chars = max_context_chars
        self.prompt_budget = prompt_budget
        self.max_regenerations = max_regenerations
        self.latent = latent
        self.side = side or SideWork(metrics)
        self.rerankers = {**(latent.rerankers() if latent else {}), **(rerankers or {})}
        self.discriminators = DiscriminatorRerankers(registry)
        self.retrieval = retrieval
        self.scoring = ScoreBatcher(
            batching=scheduler.batching, on_batch=metrics.scoring_batch_size.observe
        )

    def check(self, request: GenerateRequest) -> ServedModel:
        """Everything that can be refused before queueing: unknown model, oversized context,
        a `max_tokens` that leaves no room for the prompt, a discriminator that cannot read
        the model."""
        served = self.registry.get(request.model)
        size = context_chars(request.context)
        if size > self.max_context_chars:
            raise ContextTooLarge(
                f"context has {size} characters; this generator accepts at most "
                f"{self.max_context_chars}"
            )
        served.prompt_budget(self.prompt_budget, request.params.max_tokens)
        self.discriminators.check(request, served)
        return served

    async def generate(self, request: GenerateRequest) -> GenerateResponse:
        served = self.check(request)
        loop = asyncio.get_running_loop()
        started = time.perf_counter()
        queued_s = generating_s = 0.0
        ranked: list[Candidate] = []
        for attempt in range(self.max_regenerations + 1):
            if attempt:
                self.metrics.regenerations.inc()
            if request.kind == "twist" and self._plans_twists(request, served):
                ranked = await self._twist(request, served, attempt)
                if ranked:
                    break
                continue
            retrieves = attempt == 0 and self._retrieves(request)
            prepared = await asyncio.to_thread(
                pipeline.prepare,
                request,
                served.tokenizer,
                served.prompt_budget(self.prompt_budget, request.params.max_tokens),
                attempt,
                self.retrieval.sample_pool(request) if retrieves and self.retrieval else None,
            )
            job = Job(prepared, served, loop, loop.create_future(), priority=attempt > 0)
            led = self._style_led(request, served, attempt)
            found = self._retrieved(prepared, served) if retrieves else None
            try:
                sequences = await self._run(job)
            except BaseException:
                for side_task in (led, found):
                    if side_task is not None:
                        side_task.cancel()
                raise
            queued_s += job.queued_s
            generating_s += job.generating_s
            extra = await led if led is not None else []
            extra += await found if found is not None else []
            ticket = Ticket()
            try:
                ranked = await asyncio.to_thread(
                    self._judge, prepared, served, sequences, extra, ticket
                )
            finally:
                ticket.stopped = True  # a caller gone: its scoring leaves the batcher's queue
            if ranked:
                break
        else:
            self.metrics.fallbacks.inc()
        timings = Timings(
            queue_ms=queued_s * 1000,
            generate_ms=generating_s * 1000,
            total_ms=(time.perf_counter() - started) * 1000,
        )
        return pipeline.respond(request, served.id, ranked, timings)

    def _plans_twists(self, request: GenerateRequest, served: ServedModel) -> bool:
        """Whether the VAE plans this twist: where it fits the model and no passage index
        serves the request (there, corpus passages that open with a turn of events compete with
        the model's own twists under the `story` reranker, as a continue's passages do)."""
        return (
            self.latent is not None
            and self.latent.plans_twists_for(served)
            and not self._retrieves(request)
        )

    async def _twist(
        self, request: GenerateRequest, served: ServedModel, attempt: int
    ) -> list[Candidate]:
        """A twist is planned in latent space and continued by the language model, outside the
        batch: one request's few short samples, on a side-work thread (the model is only read,
        so it can run beside the scheduler's worker); a full side queue refuses it (overloaded).
        A twist whose caller left stops at the model's next step."""
        started = time.perf_counter()
        latent = self.latent
        assert latent is not None
        ranked = await self.side.run(
            "twist", lambda ticket: latent.twist(request, stoppable(served, ticket), attempt)
        )
        self.metrics.twist_seconds.observe(time.perf_counter() - started)
        for candidate in ranked:
            self.metrics.verdicts.labels("generated", candidate.moderation.verdict).inc()
        return ranked

    def _style_led(
        self, request: GenerateRequest, served: ServedModel, attempt: int
    ) -> asyncio.Task[list[Candidate]] | None:
        """Style-led candidates, written on a side-work thread while the batch writes the
        model's own (both only read the model); None when the request gets none. They only add
        to the model's own, so a full side queue leaves the request without them."""
        latent = self.latent
        if latent is None or not latent.leads_style(request, served):
            return None
        task = asyncio.create_task(self._optional_style(request, served, attempt))
        # A request that fails or is cancelled first never awaits it: retrieve its outcome.
        task.add_done_callback(lambda done: done.cancelled() or done.exception())
        return task

    async def _optional_style(
        self, request: GenerateRequest, served: ServedModel, attempt: int
    ) -> list[Candidate]:
        latent = self.latent
        assert latent is not None
        try:
            return await self.side.run(
                "style",
                lambda ticket: latent.style_led(request, stoppable(served, ticket), attempt),
            )
        except GeneratorOverloaded:
            return []

    def _retrieves(self, request: GenerateRequest) -> bool:
        """Whether corpus passages compete for this request: a story turn ranked by the `story`
        reranker, with a passage index loaded. Only a first attempt asks (a regeneration follows
        a pool that the moderator blocked whole, passages included)."""
        retrieval = self.retrieval
        return (
            retrieval is not None and request.params.rerank == "story" and retrieval.serves(request)
        )

    def _retrieved(
        self, prepared: pipeline.PreparedRequest, served: ServedModel
    ) -> asyncio.Task[list[Candidate]]:
        """Corpus passages recast to the story's people (generators.retrieval), found and
        moderated on a side-work thread while the batch samples, and scored after the request's
        prompt (the sampler's measure) by the batched reader."""
        retrieval = self.retrieval
        assert retrieval is not None
        task = asyncio.create_task(self._optional_retrieved(retrieval, prepared, served))
        task.add_done_callback(lambda done: done.cancelled() or done.exception())
        return task

    async def _optional_retrieved(
        self, retrieval: RetrievalSource, prepared: pipeline.PreparedRequest, served: ServedModel
    ) -> list[Candidate]:
        """Found on a side-work thread, read after the prompt with other requests' reads, then
        moderated; the side thread is not held while the reading waits for its batch."""
        request = prepared.request
        try:
            found = await self.side.run("retrieve", lambda _: retrieval.find(request))
        except GeneratorOverloaded:
            return []
        if not found:
            return []
        ids = passage_ids(found, served.tokenizer, prepared.prompt.prefix_text)
        scores = await self.scoring.score(served.model, prepared.prompt.ids, ids)
        candidates = as_candidates(found, scores)
        return await asyncio.to_thread(
            pipeline.moderate_candidates, candidates, self.moderator, request.moderation_level
        )

    async def embed(self, request: EmbedRequest) -> EmbedResponse:
        """Embedded EMBED_CHUNK texts at a time on a side-work thread, so that a request whose
        caller left or whose deadline passed stops at the next chunk."""
        latent = require_latent(self.latent)

        def work(ticket: Ticket) -> EmbedResponse:
            texts = request.texts
            vectors: list[list[list[float]]] = []
            for start in range(0, len(texts), EMBED_CHUNK):
                ticket.check()
                chunk = EmbedRequest(texts=texts[start : start + EMBED_CHUNK])
                vectors += latent.embed(chunk).vectors
            return EmbedResponse(
                vectors=vectors, model=latent.model_id, latent_dim=latent.latent_dim
            )

        return await self.side.run("embed", work)

    def models(self) -> list[ModelInfo]:
        """The language models, then the sentence VAE when one is loaded."""
        extra = [self.latent.info()] if self.latent else []
        return [*self.registry.info(), *extra]

    async def _run(self, job: Job) -> list[Sequence]:
        """Queue a job and await its sequences; a cancelled wait frees its slot."""
        self.scheduler.submit(job)
        try:
            return await job.future
        finally:
            if not job.future.done() or job.future.cancelled():
                self.scheduler.cancel(job)

    def _judge(
        self,
        prepared: pipeline.PreparedRequest,
        served: ServedModel,
        sequences: list[Sequence],
        extra: list[Candidate],
        ticket: Ticket,
    ) -> list[Candidate]:
        """Moderate the batch's candidates, add the already moderated `extra` (style-led,
        retrieved) ones, and keep the request's n best; the `story` reranker reads through the
        batched reader until `ticket` stops."""
        request = prepared.request
        candidates = pipeline.to_candidates(prepared, sequences)
        kept = pipeline.moderate_candidates(candidates, self.moderator, request.moderation_level)
        for candidate in [*candidates, *extra]:
            self.metrics.verdicts.labels("generated", candidate.moderation.verdict).inc()
        kept += extra
        kept = pipeline.not_avoided(kept, request)
        if not kept:
            return []
        rerankers = {
            **self.rerankers,
            **self.discriminators.rerankers(request, served),
            "story": story_reranker(
                served,
                lambda model, prompt, conts: self.scoring.score_after(model, prompt, conts, ticket),
                self.retrieval.topic_fit if self.retrieval else None,
            ),
        }
        return pipeline.rerank(request, kept, rerankers)[: request.params.n]

    async def moderate(self, text: str, level: str) -> ModerationVerdict:
        verdict = await self.side.run("moderate", lambda _: self.moderator.check(text, level))
        self.metrics.verdicts.labels("moderate", verdict.verdict).inc()
        return verdict


class StoppableModel:
    """A language model whose every step first checks that its caller still waits.

    Twists and style leads step the model through `run`, so this is where side work stops
    between two steps once its caller has left (the batch drops such rows itself)."""

    def __init__(self, model, ticket: Ticket):
        self.inner = model
        self.ticket = ticket

    def run(self, *args, **kwargs):
        self.ticket.check()
        return self.inner.run(*args, **kwargs)

    def __getattr__(self, name: str):
        attribute = getattr(self.inner, name)
        if name != "read_hidden":
            return attribute

        def checked(*args, **kwargs):
            self.ticket.check()
            return attribute(*args, **kwargs)

        return checked


def stoppable(served: ServedModel, ticket: Ticket) -> ServedModel:
    """`served` for one piece of side work, its model stopping once `ticket` is stopped (the
    model itself is shared, not copied)."""
    checkpoint = dataclasses.replace(
        served.checkpoint, model=StoppableModel(served.checkpoint.model, ticket)
    )
    return dataclasses.replace(served, checkpoint=checkpoint)
