"""Load limits against a real server: a full queue answers 503 with Retry-After, the deadline
answers 504, and a client that goes away frees its rows at once."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from test_service_support import GatedModel, SlowModel, body, metric, running_service, tiny_registry


def wait_until(check, timeout_s: float = 60.0) -> None:
    """Poll `check` (a generous limit: it only bounds a hang, it measures nothing)."""
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            pytest.fail("condition not reached in time")
        time.sleep(0.02)


def gated_service(checkpoint, **settings):
    registry = tiny_registry(checkpoint, wrap=GatedModel)
    return running_service(checkpoint, registry=registry, **settings), registry.get(None).model


def test_a_full_queue_answers_503_with_retry_after(tiny_checkpoint):
    service, model = gated_service(tiny_checkpoint, max_batch=1, max_queue=1)

    async def scenario(url: str):
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            first = asyncio.create_task(client.post("/v1/generate", json=body(seed=1)))
            await asyncio.to_thread(model.entered.wait, 10)  # the worker holds request 1
            second = asyncio.create_task(client.post("/v1/generate", json=body(seed=2)))
            for _ in range(200):  # until request 2 is queued
                if (await client.get("/readyz")).status_code == 503:
                    break
                await asyncio.sleep(0.02)
            not_ready = await client.get("/readyz")
            refused = await client.post("/v1/generate", json=body(seed=3))
            model.gate.set()
            return not_ready, refused, await first, await second

    with service as server:
        not_ready, refused, first, second = asyncio.run(scenario(server.url))
    assert not_ready.status_code == 503 and not_ready.json()["error"] == "overloaded"
    assert refused.status_code == 503 and refused.headers["Retry-After"] == "1"
    assert refused.json()["error"] == "overloaded"
    assert first.status_code == second.status_code == 200


def test_the_deadline_answers_504_and_frees_the_rows(tiny_checkpoint):
    service, model = gated_service(tiny_checkpoint, request_deadline_s=0.3)
    with service as server:
        late = httpx.post(f"{server.url}/v1/generate", json=body(n=3, tokens=512), timeout=30)
        model.gate.set()  # the worker finishes reading the prompt, then drops the rows
        wait_until(lambda: httpx.get(f"{server.url}/readyz").json()["active_sequences"] == 0)
        stats = httpx.get(f"{server.url}/metrics").text
    assert late.status_code == 504 and late.json()["error"] == "timeout"
    assert metric(stats, "talewright_generated_tokens_total") < 3 * 512 / 4


def test_a_client_that_disconnects_frees_its_rows(tiny_checkpoint):
    registry = tiny_registry(tiny_checkpoint, wrap=lambda m: SlowModel(m, 0.01))
    with running_service(tiny_checkpoint, registry=registry) as server:
        long = body(n=4, tokens=512)  # about 5 s of work at 10 ms a step
        with pytest.raises(httpx.ReadTimeout):
            httpx.post(f"{server.url}/v1/generate", json=long, timeout=0.5)

        def idle() -> bool:
            return httpx.get(f"{server.url}/readyz").json()["active_sequences"] == 0

        wait_until(idle, timeout_s=60)
        stats = httpx.get(f"{server.url}/metrics").text
    # The tokens, not the clock: rows that ran on after the client left would reach 4 x 512.
    assert metric(stats, "talewright_generated_tokens_total") < 4 * 512
    assert metric(stats, "talewright_requests_total", endpoint="/v1/generate", status="499") == 1
