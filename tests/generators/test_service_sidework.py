"""Twists, style leads, /v1/embed and /v1/moderate share a bounded side-work pool on a real
server: a full pool answers 503 with Retry-After, work whose client left or whose deadline
passed leaves the queue unrun, and an embedding stops between chunks once nobody waits."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter

import httpx
import pytest
from test_service_support import STORY, body, metric, running_service

from generators.schemas import Candidate, EmbedRequest, EmbedResponse, ModelInfo

TWIST = {"kind": "twist", "context": STORY, "params": {"max_tokens": 12, "n": 1, "seed": 3}}
EMBED = {"texts": [f"Sentence {i}. Another one." for i in range(64)]}


class GatedLatent:
    """A sentence-VAE stand-in whose every call waits at `gate`; counts its calls."""

    model_id = "gated-vae"
    latent_dim = 2

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.entered = threading.Event()
        self.calls: Counter[str] = Counter()

    def _hold(self, kind: str) -> None:
        self.calls[kind] += 1
        self.entered.set()
        assert self.gate.wait(60)

    def rerankers(self) -> dict:
        return {}

    def plans_twists_for(self, served) -> bool:
        return True

    def leads_style(self, request, served) -> bool:
        return request.context.style_vector is not None

    def twist(self, request, served, attempt) -> list[Candidate]:
        self._hold("twist")
        return [Candidate(text="Then the moon fell.", score=0.0)]

    def style_led(self, request, served, attempt) -> list[Candidate]:
        self._hold("style")
        return [Candidate(text="A styled line.", score=0.0)]

    def embed(self, request: EmbedRequest) -> EmbedResponse:
        self._hold("embed")
        vectors = [[[0.0, 0.0]] for _ in request.texts]
        return EmbedResponse(vectors=vectors, model=self.model_id, latent_dim=2)

    def info(self) -> ModelInfo:
        return ModelInfo(id=self.model_id, family="vae", parameters=0, vocab_size=0)


async def until(client: httpx.AsyncClient, check) -> str:
    """Poll /metrics until `check(text)` holds (the server's own counters, not wall time)."""
    text = ""
    for _ in range(1500):
        text = (await client.get("/metrics")).text
        if check(text):
            return text
        await asyncio.sleep(0.02)
    counters = [
        line
        for line in text.splitlines()
        if line.startswith(("talewright_side_work_total", "talewright_requests_total"))
    ]
    pytest.fail("the service never reached the expected state:\n" + "\n".join(counters))


def side(text: str, kind: str, outcome: str) -> float:
    return metric(text, "talewright_side_work_total", kind=kind, outcome=outcome)


def embeds_gone(text: str) -> float:
    return metric(text, "talewright_requests_total", endpoint="/v1/embed", status="499")


def test_a_full_side_pool_answers_503_with_retry_after(tiny_checkpoint):
    latent = GatedLatent()

    async def scenario(url: str):
        async with httpx.AsyncClient(base_url=url, timeout=60) as client:
            first = asyncio.create_task(client.post("/v1/generate", json=TWIST))
            assert await asyncio.to_thread(latent.entered.wait, 30)
            second = asyncio.create_task(client.post("/v1/generate", json=TWIST))
            await until(client, lambda t: metric(t, "talewright_side_work_waiting") == 1)
            refused = await client.post("/v1/generate", json=TWIST)
            moderation = await client.post("/v1/moderate", json={"text": "Hello there."})
            latent.gate.set()
            return refused, moderation, await first, await second, (await client.get("/metrics"))

    with running_service(tiny_checkpoint, latent=latent, side_workers=1, side_queue=1) as server:
        refused, moderation, first, second, stats = asyncio.run(scenario(server.url))
    for answer in (refused, moderation):
        assert answer.status_code == 503 and answer.headers["Retry-After"] == "1"
        assert answer.json()["error"] == "overloaded"
    assert first.status_code == second.status_code == 200
    assert first.json()["text"] == "Then the moon fell."
    assert side(stats.text, "twist", "refused") == side(stats.text, "moderate", "refused") == 1
    assert latent.calls["twist"] == 2


def test_queued_work_whose_client_left_never_runs(tiny_checkpoint):
    latent = GatedLatent()

    async def scenario(url: str) -> str:
        async with httpx.AsyncClient(base_url=url, timeout=60) as client:
            holder = asyncio.create_task(client.post("/v1/generate", json=TWIST))
            assert await asyncio.to_thread(latent.entered.wait, 30)
            async with httpx.AsyncClient(base_url=url, timeout=60) as leaving:
                gone = asyncio.create_task(leaving.post("/v1/embed", json=EMBED))
                await until(client, lambda t: metric(t, "talewright_side_work_waiting") == 1)
                gone.cancel()
            await until(client, lambda t: side(t, "embed", "dropped") == 1)
            latent.gate.set()
            assert (await holder).status_code == 200
            return (await client.get("/metrics")).text

    with running_service(tiny_checkpoint, latent=latent, side_workers=1) as server:
        stats = asyncio.run(scenario(server.url))
    assert latent.calls["embed"] == 0
    assert embeds_gone(stats) == 1


def test_the_deadline_answers_504_and_drops_queued_work(tiny_checkpoint):
    latent = GatedLatent()

    async def scenario(url: str):
        async with httpx.AsyncClient(base_url=url, timeout=60) as client:
            holder = asyncio.create_task(client.post("/v1/generate", json=TWIST))
            assert await asyncio.to_thread(latent.entered.wait, 30)
            late = await client.post("/v1/embed", json=EMBED)  # queued behind the twist
            await until(client, lambda t: side(t, "embed", "dropped") == 1)
            latent.gate.set()
            return late, await holder

    settings = {"side_workers": 1, "request_deadline_s": 1.0}
    with running_service(tiny_checkpoint, latent=latent, **settings) as server:
        late, holder = asyncio.run(scenario(server.url))
    assert late.status_code == 504 and late.json()["error"] == "timeout"
    assert holder.status_code == 504
    assert latent.calls["embed"] == 0


def test_an_embedding_stops_between_chunks_once_its_client_left(tiny_checkpoint):
    latent = GatedLatent()

    async def scenario(url: str) -> None:
        async with httpx.AsyncClient(base_url=url, timeout=60) as client:
            async with httpx.AsyncClient(base_url=url, timeout=60) as leaving:
                gone = asyncio.create_task(leaving.post("/v1/embed", json=EMBED))
                assert await asyncio.to_thread(latent.entered.wait, 30)
                gone.cancel()
            await until(
                client,
                lambda t: metric(
                    t, "talewright_requests_total", endpoint="/v1/embed", status="499"
                ),
            )
            latent.gate.set()
            await until(client, lambda t: side(t, "embed", "stopped") == 1)

    with running_service(tiny_checkpoint, latent=latent) as server:
        asyncio.run(scenario(server.url))
    assert latent.calls["embed"] == 1  # of 8 chunks


def test_a_full_pool_leaves_a_styled_request_its_models_own_candidates(tiny_checkpoint):
    latent = GatedLatent()
    styled = body(n=2, tokens=10)
    styled["context"] = {**STORY, "style_vector": [0.1, 0.2]}

    async def scenario(url: str):
        async with httpx.AsyncClient(base_url=url, timeout=60) as client:
            holder = asyncio.create_task(client.post("/v1/generate", json=TWIST))
            assert await asyncio.to_thread(latent.entered.wait, 30)
            answer = await client.post("/v1/generate", json=styled)
            latent.gate.set()
            await holder
            return answer, (await client.get("/metrics")).text

    with running_service(tiny_checkpoint, latent=latent, side_workers=1, side_queue=0) as server:
        answer, stats = asyncio.run(scenario(server.url))
    assert answer.status_code == 200, answer.text
    assert "A styled line." not in [c["text"] for c in answer.json()["candidates"]]
    assert side(stats, "style", "refused") == 1 and latent.calls["style"] == 0
