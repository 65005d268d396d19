"""The generation contract, run against both front doors of the one engine
(generators.inference.orchestration): the in-process generator and the HTTP service behind
HttpGenerator. Every test here runs once per mode with the same assertions: answers, refusals
(unknown model, oversized context, no room for the prompt), limits (a full queue, a deadline), a
failing model, the metrics, and stories asking at once sharing model steps.

Both modes serve the same registry shape: the tiny LSTM as "tiny" (the default) and the tiny
transformer as "tiny-1"."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from test_service_support import GatedModel, WrappedModel, body, metric, running_service
from test_service_support import tiny_registry as registry_of

from generators.client import Generator, HttpGenerator, InProcessGenerator
from generators.errors import (
    ContextTooLarge,
    GeneratorOverloaded,
    GeneratorTimeout,
    GeneratorUnavailable,
    InvalidGenerationRequest,
    UnknownModel,
)
from generators.moderation import Moderator
from generators.schemas import GenerateRequest, StoryContext

MODES = ["in-process", "service"]
CONTEXT_LIMIT = 2000


class CountingGate(GatedModel):
    """A gated model that counts its calls (steps after a caller left would show here)."""

    def __init__(self, model):
        super().__init__(model)
        self.steps = 0

    def run(self, ids, state=None, last_only=False):
        self.steps += 1
        return super().run(ids, state, last_only)


class FailingModel(WrappedModel):
    """Every model call raises while `failing` is set."""

    def __init__(self, model):
        super().__init__(model)
        self.failing = threading.Event()

    def run(self, ids, state=None, last_only=False):
        if self.failing.is_set():
            raise RuntimeError("the model broke")
        return super().run(ids, state, last_only)


@dataclass
class Front:
    """One mode's generator, and its Prometheus text however that mode exposes it."""

    generator: Generator
    metrics_text: Callable[[], str]
    model: Any
    """The default model as served (a test's wrapper when it gave one)."""

    async def metric(self, name: str, **labels: str) -> float:
        return metric(await asyncio.to_thread(self.metrics_text), name, **labels)


@asynccontextmanager
async def front(
    mode: str,
    checkpoints,
    *,
    wrap=None,
    max_batch: int = 64,
    max_queue: int = 256,
    deadline_s: float = 60.0,
) -> AsyncIterator[Front]:
    """The engine behind `mode` over a fresh registry of `checkpoints` (the first model wrapped
    by `wrap`), with the same limits whichever the mode."""
    registry = registry_of(*checkpoints)
    served = registry.get(None)
    if wrap is not None:
        served.checkpoint.model = wrap(served.checkpoint.model)
    moderator = Moderator(use_classifier=False)
    if mode == "in-process":
        local = InProcessGenerator(
            registry,
            moderator=moderator,
            max_batch=max_batch,
            max_pending=max_queue,
            timeout_s=deadline_s,
            max_context_chars=CONTEXT_LIMIT,
        )
        try:
            yield Front(local, lambda: local.metrics.render().decode(), served.model)
        finally:
            await local.aclose()
        return
    service = running_service(
        checkpoints[0],
        registry=registry,
        moderator=moderator,
        max_batch=max_batch,
        max_queue=max_queue,
        request_deadline_s=deadline_s,
        max_context_chars=CONTEXT_LIMIT,
    )
    with service as server:
        remote = HttpGenerator(
            [server.url], timeout_s=deadline_s + 30, retries=0, max_retry_after_s=0
        )
        try:
            yield Front(remote, lambda: httpx.get(f"{server.url}/metrics").text, served.model)
        finally:
            await remote.aclose()


def request(**params) -> GenerateRequest:
    model = params.pop("model", None)
    return GenerateRequest.model_validate({**body(**params), "model": model})


async def until(condition, what: str) -> None:
    """Poll an async `condition` (the bound only stops a hang; nothing is timed)."""
    for _ in range(3000):
        if await condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"never happened: {what}")


@pytest.fixture(params=MODES)
def mode(request) -> str:
    return request.param


@pytest.fixture
def checkpoints(tiny_checkpoint, tiny_transformer):
    return (tiny_checkpoint, tiny_transformer)


async def test_an_answer_has_the_requested_candidates_and_models(mode, checkpoints):
    async with front(mode, checkpoints) as f:
        answer = await f.generator.generate(request(n=2, seed=3))
        again = await f.generator.generate(request(n=2, seed=3))
        other = await f.generator.generate(request(seed=3, model="tiny-1"))
        models = [m.id for m in await f.generator.list_models()]
    assert answer.model == "tiny" and len(answer.candidates) == 2 and answer.text
    assert not answer.fallback and answer.timings.total_ms > 0
    assert [c.text for c in again.candidates] == [c.text for c in answer.candidates]
    assert other.model == "tiny-1" and other.text
    assert models == ["tiny", "tiny-1"]


async def test_avoided_texts_are_never_offered_again(mode, checkpoints):
    """A reroll's earlier alternatives: the same seed would write them again, so that attempt
    is dropped whole and the next one writes new candidates."""
    async with front(mode, checkpoints) as f:
        first = await f.generator.generate(request(n=2, seed=3))
        shown = [c.text for c in first.candidates]
        again = await f.generator.generate(request(n=2, seed=3, avoid=[s.upper() for s in shown]))
        regenerated = await f.metric("talewright_regenerations_total")
    assert again.candidates and not again.fallback
    assert not {c.text for c in again.candidates} & set(shown)
    assert regenerated == 1


async def test_refusals_are_the_same_errors(mode, checkpoints):
    async with front(mode, checkpoints) as f:
        with pytest.raises(UnknownModel, match="nope"):
            await f.generator.generate(request(model="nope"))
        long = request().model_copy(
            update={"context": StoryContext(premise="x" * 1500, title="y" * 120, memory="z" * 1000)}
        )
        with pytest.raises(ContextTooLarge, match=f"at most {CONTEXT_LIMIT}"):
            await f.generator.generate(long)
        with pytest.raises(InvalidGenerationRequest, match="ask for at most 128"):
            await f.generator.generate(request(tokens=140, model="tiny-1"))
        assert (await f.generator.generate(request())).text


async def test_metrics_count_tokens_batches_and_verdicts(mode, checkpoints):
    async with front(mode, checkpoints) as f:
        await f.generator.generate(request(n=2, tokens=20))
        tokens = await f.metric("talewright_generated_tokens_total")
        steps = await f.metric("talewright_batch_size_count")
        allowed = await f.metric(
            "talewright_moderation_verdicts_total", source="generated", verdict="allow"
        )
    assert tokens == 2 * 20 and steps == 20 and allowed == 2


async def test_stories_asking_at_once_share_model_steps(mode, checkpoints):
    async with front(mode, checkpoints, wrap=GatedModel) as f:
        gate = f.model
        first = asyncio.create_task(f.generator.generate(request(seed=1)))
        await asyncio.to_thread(gate.entered.wait, 30)
        rest = [asyncio.create_task(f.generator.generate(request(seed=s))) for s in (2, 3, 4)]

        async def all_queued() -> bool:
            return await f.metric("talewright_queue_depth") == 3

        await until(all_queued, "three requests waiting behind the first")
        gate.gate.set()
        answers = await asyncio.gather(first, *rest)
        shared = await f.metric("talewright_batch_size_bucket", le="2.0")
        steps = await f.metric("talewright_batch_size_count")
    assert all(answer.text for answer in answers)
    assert steps > shared > 0, "some steps advanced the three later requests together"


async def test_a_full_queue_is_overloaded_and_the_rest_are_served(mode, checkpoints):
    async with front(mode, checkpoints, wrap=GatedModel, max_batch=1, max_queue=1) as f:
        gate = f.model
        first = asyncio.create_task(f.generator.generate(request(seed=1)))
        await asyncio.to_thread(gate.entered.wait, 30)
        second = asyncio.create_task(f.generator.generate(request(seed=2)))

        async def one_queued() -> bool:
            return await f.metric("talewright_queue_depth") == 1

        await until(one_queued, "the second request waiting")
        with pytest.raises(GeneratorOverloaded) as refused:
            await f.generator.generate(request(seed=3))
        gate.gate.set()
        answers = await asyncio.gather(first, second)
    assert refused.value.retry_after > 0
    assert all(answer.text for answer in answers)


async def test_past_the_deadline_it_times_out_and_takes_no_further_step(mode, checkpoints):
    async with front(mode, checkpoints, wrap=CountingGate, deadline_s=0.5) as f:
        gate = f.model
        with pytest.raises(GeneratorTimeout):
            await f.generator.generate(request(n=3, tokens=100))
        assert gate.entered.is_set()
        gate.gate.set()

        async def idle() -> bool:
            return await f.metric("talewright_active_sequences") == 0

        await until(idle, "the rows of the late request freed")
        tokens = await f.metric("talewright_generated_tokens_total")
    assert gate.steps == 1, "only the prompt was read: no step after the caller left"
    assert tokens == 0


async def test_a_failing_model_is_unavailable_and_the_next_request_is_served(mode, checkpoints):
    async with front(mode, checkpoints, wrap=FailingModel) as f:
        model = f.model
        model.failing.set()
        with pytest.raises(GeneratorUnavailable, match="the model broke"):
            await f.generator.generate(request())
        model.failing.clear()
        assert (await f.generator.generate(request())).text


class ScoringGate(WrappedModel):
    """Calls from the scoring thread (the story reranker's reading) wait until `gate` is set."""

    def __init__(self, model):
        super().__init__(model)
        self.gate = threading.Event()
        self.entered = threading.Event()

    def run(self, ids, state=None, last_only=False):
        if threading.current_thread().name == "talewright-scoring":
            self.entered.set()
            self.gate.wait(30)
        return super().run(ids, state, last_only)


async def test_stories_asking_at_once_are_scored_as_when_alone(mode, checkpoints):
    async with front(mode, checkpoints) as f:
        asks = [request(seed=seed, n=2, tokens=12, rerank="story") for seed in (1, 2, 3, 4)]
        together = await asyncio.gather(*(f.generator.generate(ask) for ask in asks))
        alone = [await f.generator.generate(ask) for ask in asks]
        reads = await f.metric("talewright_scoring_batch_size_count")
    for shared, single in zip(together, alone, strict=True):
        assert [c.text for c in shared.candidates] == [c.text for c in single.candidates]
        assert [c.score for c in shared.candidates] == pytest.approx(
            [c.score for c in single.candidates], abs=1e-3
        )
    assert reads >= 2, "the story reranker read through the batched reader"


async def test_a_late_request_leaves_no_scoring_behind(mode, checkpoints):
    async with front(mode, checkpoints, wrap=ScoringGate, deadline_s=3.0) as f:
        gate = f.model
        story = {"n": 1, "tokens": 8, "rerank": "story"}
        with pytest.raises(GeneratorTimeout):
            await f.generator.generate(request(seed=1, **story))  # its reading holds the thread
        assert gate.entered.is_set()
        with pytest.raises(GeneratorTimeout):
            await f.generator.generate(request(seed=2, **story))  # its reading waits, then goes
        gate.gate.set()
        answer = await f.generator.generate(request(seed=3, **story))
        batches = await f.metric("talewright_scoring_batch_size_count")
        reads = await f.metric("talewright_scoring_batch_size_sum")
    assert answer.text
    assert batches == 2 and reads == 2, (
        "the first request's reading and the third's, not the second's"
    )
