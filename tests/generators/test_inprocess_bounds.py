"""The in-process generator under load: a bounded number of calls running or waiting (more
fail at once as overloaded), and a call that timed out stops at the model's next step instead
of keeping the worker busy."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest
from test_service_support import STORY

from generators.client import InProcessGenerator
from generators.errors import GeneratorOverloaded, GeneratorTimeout
from generators.inprocess_worker import BoundedWorker
from generators.moderation import Moderator
from generators.registry import ModelRegistry
from generators.schemas import GenerateRequest, GenerationParams, StoryContext


class CountingGate:
    """Counts model steps; while `gate` is clear, a step waits for it (the worker stays busy)."""

    def __init__(self, model):
        self.inner = model
        self.gate = threading.Event()
        self.entered = threading.Event()
        self.steps = 0

    def run(self, ids, state=None, last_only=False):
        self.steps += 1
        self.entered.set()
        self.gate.wait(60)
        return self.inner.run(ids, state, last_only)

    def __getattr__(self, name):
        return getattr(self.inner, name)


def request(model: str) -> GenerateRequest:
    params = GenerationParams(max_tokens=20, min_tokens=20, n=1, seed=1)
    return GenerateRequest(context=StoryContext(**STORY), params=params, model=model)


@pytest.fixture
def gated(tiny_checkpoint: Path) -> tuple[ModelRegistry, CountingGate]:
    registry = ModelRegistry("cpu")
    slow = registry.load(tiny_checkpoint, model_id="gated")
    registry.load(tiny_checkpoint, model_id="free")
    gate = CountingGate(slow.checkpoint.model)
    slow.checkpoint.model = gate
    return registry, gate


async def until(condition, what: str) -> None:
    for _ in range(6000):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never happened: {what}")


async def test_calls_beyond_the_bound_fail_at_once_and_the_rest_are_served(gated) -> None:
    registry, gate = gated
    generator = InProcessGenerator(
        registry, moderator=Moderator(use_classifier=False), timeout_s=120, max_pending=3
    )
    waiting = [asyncio.create_task(generator.generate(request("gated"))) for _ in range(3)]
    await until(lambda: generator._worker.pending == 3, "three calls admitted")
    with pytest.raises(GeneratorOverloaded, match="busy") as refused:
        await generator.generate(request("free"))
    assert refused.value.retry_after > 0
    gate.gate.set()
    answers = await asyncio.gather(*waiting)
    assert all(answer.text for answer in answers)
    await until(lambda: generator._worker.pending == 0, "every slot given back")
    assert (await generator.generate(request("free"))).text
    await generator.aclose()


async def test_a_timed_out_call_stops_at_the_next_step_and_frees_the_worker(gated) -> None:
    registry, gate = gated
    generator = InProcessGenerator(
        registry, moderator=Moderator(use_classifier=False), timeout_s=0.5, max_pending=4
    )
    with pytest.raises(GeneratorTimeout):
        await generator.generate(request("gated"))
    assert gate.entered.is_set()
    waiting = asyncio.create_task(generator.generate(request("gated")))
    await until(lambda: generator._worker.pending == 2, "the next call waiting")
    waiting.cancel()
    steps_when_released = gate.steps
    gate.gate.set()
    await until(lambda: generator._worker.pending == 0, "the worker free again")
    assert gate.steps == steps_when_released == 1, "no step after the caller left"
    generator.timeout_s = 120
    assert (await generator.generate(request("free"))).text
    await generator.aclose()


async def test_a_caller_cancelled_while_waiting_never_starts_its_work() -> None:
    worker = BoundedWorker(max_pending=2)
    release, started = threading.Event(), []
    first = asyncio.create_task(worker.run(lambda cancelled: release.wait(60), 120))
    second = asyncio.create_task(worker.run(lambda cancelled: started.append(1), 120))
    await until(lambda: worker.pending == 2, "both admitted")
    second.cancel()
    with pytest.raises(asyncio.CancelledError):
        await second
    release.set()
    await first
    await until(lambda: worker.pending == 0, "both slots given back")
    assert started == []
    worker.shutdown()
