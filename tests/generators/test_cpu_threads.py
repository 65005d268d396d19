"""Torch threads while serving: one per operation unless a person sets more."""

from __future__ import annotations

import asyncio
import threading

import pytest
import torch

from bot.lazy_generator import LazyGenerator
from generators.inference.cpu_threads import SERVING_THREADS, set_serving_threads
from generators.moderation import Moderator
from generators.schemas import GenerateRequest


@pytest.fixture
def restore_threads():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def test_unset_threads_serve_with_one_and_a_setting_wins(restore_threads):
    torch.set_num_threads(2)
    assert set_serving_threads(None) == SERVING_THREADS == 1
    assert threads_of_a_new_thread() == 1
    assert set_serving_threads(2) == 2
    assert threads_of_a_new_thread() == 2


@pytest.mark.parametrize(("configured", "expected"), [(None, 1), (2, 2)])
def test_the_bots_generator_loads_with_the_serving_threads(
    tiny_checkpoint, restore_threads, configured, expected
):
    torch.set_num_threads(3 - expected)
    generator = LazyGenerator(
        tiny_checkpoint, moderator=Moderator(use_classifier=False), threads=configured
    )
    request = GenerateRequest.model_validate(
        {"kind": "continue", "context": {"turns": [{"text": "Tom had a red ball."}]}}
    )

    async def ask() -> None:
        try:
            response = await generator.generate(request)
            assert response.candidates
        finally:
            await generator.aclose()

    asyncio.run(ask())
    assert threads_of_a_new_thread() == expected


def threads_of_a_new_thread() -> int:
    """What a thread that starts now reads: each thread keeps the count it first met, and the
    engine's scheduler, scoring and side threads start after the models load."""
    seen: list[int] = []
    thread = threading.Thread(target=lambda: seen.append(torch.get_num_threads()))
    thread.start()
    thread.join()
    return seen[0]
