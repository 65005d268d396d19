"""What only the in-process generator has to show (the limits both modes share are in
test_generation_contract.py): its scheduler starts with the first request, a call cancelled
while it waits for the batch never reads its prompt, and a closed generator refuses."""

from __future__ import annotations

import asyncio

import pytest
from test_generation_contract import CountingGate, request
from test_service_support import tiny_registry

from generators.client import InProcessGenerator
from generators.errors import GeneratorUnavailable
from generators.moderation import Moderator


async def until(condition, what: str) -> None:
    for _ in range(3000):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"never happened: {what}")


async def test_a_call_cancelled_while_waiting_never_reads_its_prompt(tiny_checkpoint) -> None:
    registry = tiny_registry(tiny_checkpoint, wrap=CountingGate)
    gate = registry.get(None).model
    generator = InProcessGenerator(registry, moderator=Moderator(use_classifier=False), max_batch=1)
    assert not generator.scheduler.running, "nothing starts before the first request"
    first = asyncio.create_task(generator.generate(request(seed=1)))
    await asyncio.to_thread(gate.entered.wait, 30)
    second = asyncio.create_task(generator.generate(request(seed=2)))
    await until(lambda: generator.scheduler.queue_depth == 1, "the second call waiting")
    second.cancel()
    with pytest.raises(asyncio.CancelledError):
        await second
    steps_before = gate.steps
    gate.gate.set()
    answer = await first
    assert answer.text
    await until(lambda: generator.scheduler.live_rows == 0, "the batch empty")
    # The first request's 30 tokens take 29 more calls (the last token is not read back).
    prompt_reads = gate.steps - steps_before - 29
    assert prompt_reads == 0, "the cancelled call's prompt was never read"
    await generator.aclose()
    with pytest.raises(GeneratorUnavailable, match="closed"):
        await generator.generate(request())
