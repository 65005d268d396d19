"""HttpGenerator against real servers on loopback: round-robin, dead replicas, the circuit
breaker, timeouts, retries on 503, no retries on 4xx, and parity with the in-process generator."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from contextlib import ExitStack

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from test_service_support import running_service

from generators import http_client
from generators.client import HttpGenerator, InProcessGenerator
from generators.errors import (
    GeneratorOverloaded,
    GeneratorTimeout,
    GeneratorUnavailable,
    InvalidGenerationRequest,
    UnknownModel,
)
from generators.inference.registry import ModelRegistry
from generators.moderation import Moderator
from generators.schemas import GenerateRequest, GenerateResponse, StoryContext, TurnContext
from generators.service.live import LiveServer

REQUEST = GenerateRequest(
    context=StoryContext(turns=[TurnContext(text="Tom saw a red kite in the park.")])
)


class FakeReplica:
    """A stand-in service whose answers a test scripts: each entry of `script` answers one
    /v1/generate call ("ok", "slow", or an error status); the last entry repeats. A "slow"
    answer waits until `release` is set."""

    def __init__(self, name: str, script: list[str | int] | None = None):
        self.name = name
        self.script = list(script or ["ok"])
        self.calls = 0
        self.ready_checks = 0
        self.times: list[float] = []
        self.release = threading.Event()
        self.app = FastAPI()
        self.app.post("/v1/generate")(self.generate)
        self.app.get("/readyz")(self.readyz)
        self.app.get("/v1/models")(self.models)

    async def generate(self, request: Request):
        step = self.script[min(self.calls, len(self.script) - 1)]
        self.calls += 1
        self.times.append(time.monotonic())
        if step == "slow":
            await asyncio.to_thread(self.release.wait, 60)
        elif step != "ok":
            headers = {"Retry-After": "1"} if step == 503 else {}
            code = {503: "overloaded", 404: "unknown_model"}.get(step, "invalid_request")
            return JSONResponse(
                {"error": code, "detail": f"{self.name} says {step}"}, step, headers
            )
        return GenerateResponse(text=self.name, candidates=[], model=self.name).model_dump()

    async def readyz(self):
        self.ready_checks += 1
        healthy = self.script[min(self.calls, len(self.script) - 1)] == "ok"
        return JSONResponse({"status": "ready"}, 200 if healthy else 503)

    async def models(self):
        return [{"id": self.name, "family": "lstm", "parameters": 1, "vocab_size": 2}]


def dead_url() -> str:
    """A loopback port nobody listens on: connecting is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def replicas():
    """Start FakeReplicas on demand; all stop at the end of the test."""
    with ExitStack() as stack:

        def start(name: str, script: list[str | int] | None = None) -> tuple[FakeReplica, str]:
            fake = FakeReplica(name, script)
            return fake, stack.enter_context(LiveServer(fake.app)).url

        yield start


def fast_client(urls: list[str], **options) -> HttpGenerator:
    defaults = {"timeout_s": 10.0, "backoff_s": 0.01, "max_backoff_s": 0.05}
    return HttpGenerator(urls, **{**defaults, **options})


async def test_requests_alternate_between_replicas(replicas):
    (a, url_a), (b, url_b) = replicas("a"), replicas("b")
    client = fast_client([url_a, url_b])
    served_by = [(await client.generate(REQUEST)).model for _ in range(4)]
    await client.aclose()
    assert served_by == ["a", "b", "a", "b"]
    assert a.calls == b.calls == 2


async def test_a_dead_replica_is_skipped(replicas):
    live, url = replicas("live")
    client = fast_client([dead_url(), url], failure_threshold=2, cooldown_s=60)
    served_by = [(await client.generate(REQUEST)).model for _ in range(4)]
    await client.aclose()
    assert served_by == ["live"] * 4
    assert live.calls == 4
    assert client.replicas[0].breaker.state == "open"


@pytest.fixture
def waits(monkeypatch) -> list[float]:
    """Every asyncio.sleep the client asks for (they still happen): what it chose to wait,
    whatever the machine's speed."""
    asked: list[float] = []

    class Recording:
        def __getattr__(self, name: str):
            return getattr(asyncio, name)

        async def sleep(self, delay: float, *args, **kwargs):
            asked.append(delay)
            return await asyncio.sleep(delay, *args, **kwargs)

    monkeypatch.setattr(http_client, "asyncio", Recording())  # the client's sleeps only
    return asked


async def test_all_replicas_down_is_unavailable(waits):
    client = fast_client([dead_url(), dead_url()], retries=3, timeout_s=60)
    with pytest.raises(GeneratorUnavailable, match="cannot reach"):
        await client.generate(REQUEST)
    await client.aclose()
    assert len(waits) <= 3 and max(waits) <= 0.05, "only the short backoffs, no deadline wait"


async def test_the_breaker_opens_and_recovers(replicas):
    fake, url = replicas("flaky", [500])
    client = fast_client([url], retries=0, failure_threshold=2, cooldown_s=0.3)
    for _ in range(2):
        with pytest.raises(GeneratorUnavailable, match="500"):
            await client.generate(REQUEST)
    breaker = client.replicas[0].breaker
    assert breaker.state == "open" and fake.calls == 2
    with pytest.raises(GeneratorUnavailable, match="no generation service is reachable"):
        await client.generate(REQUEST)
    assert fake.calls == 2, "an open breaker must not let requests through"
    fake.script = ["ok"]
    await asyncio.sleep(0.35)
    assert breaker.state == "half_open"
    assert (await client.generate(REQUEST)).model == "flaky"
    await client.aclose()
    assert breaker.state == "closed" and fake.ready_checks == 1


async def test_a_half_open_replica_that_is_not_ready_stays_open(replicas):
    fake, url = replicas("sick", [500])
    client = fast_client([url], retries=0, failure_threshold=1, cooldown_s=0.2)
    with pytest.raises(GeneratorUnavailable):
        await client.generate(REQUEST)
    await asyncio.sleep(0.25)
    with pytest.raises(GeneratorUnavailable, match="not ready"):
        await client.generate(REQUEST)
    await client.aclose()
    assert fake.ready_checks == 1 and fake.calls == 1
    assert client.replicas[0].breaker.state == "open"


async def test_a_slow_server_times_out(replicas):
    fake, url = replicas("slow", ["slow"])
    client = fast_client([url], timeout_s=0.4)
    with pytest.raises(GeneratorTimeout):
        await client.generate(REQUEST)
    await client.aclose()
    assert not fake.release.is_set(), "the client gave up while the server still held it"
    fake.release.set()
    assert fake.calls == 1, "a timed-out generation is not sent again"


async def test_503_is_retried_after_retry_after(replicas):
    fake, url = replicas("busy", [503, "ok"])
    client = fast_client([url])
    response = await client.generate(REQUEST)
    await client.aclose()
    assert response.model == "busy" and fake.calls == 2
    assert fake.times[1] - fake.times[0] >= 0.95, "Retry-After: 1 was not honoured"


async def test_a_503_replica_hands_over_to_another_at_once(replicas, waits):
    (busy, url_busy), (_, url_free) = replicas("busy", [503]), replicas("free")
    client = fast_client([url_busy, url_free])
    response = await client.generate(REQUEST)
    await client.aclose()
    assert response.model == "free" and busy.calls == 1
    assert max(waits, default=0) <= 0.05, "the busy replica's Retry-After: 1 held the other"


async def test_persistent_503_is_overloaded(replicas):
    fake, url = replicas("busy", [503])
    client = fast_client([url], retries=1)
    with pytest.raises(GeneratorOverloaded) as caught:
        await client.generate(REQUEST)
    await client.aclose()
    assert fake.calls == 2 and caught.value.retry_after == 1


@pytest.mark.parametrize(
    ("status", "error"),
    [(422, InvalidGenerationRequest), (413, InvalidGenerationRequest), (404, UnknownModel)],
)
async def test_client_errors_are_not_retried(replicas, status, error):
    fake, url = replicas("strict", [status])
    client = fast_client([url])
    with pytest.raises(error, match=f"strict says {status}"):
        await client.generate(REQUEST)
    await client.aclose()
    assert fake.calls == 1
    assert client.replicas[0].breaker.state == "closed"


async def test_list_models_and_close(replicas):
    _, url = replicas("m")
    client = fast_client([url])
    assert [m.id for m in await client.list_models()] == ["m"]
    await client.aclose()
    with pytest.raises(GeneratorUnavailable, match="closed"):
        await client.generate(REQUEST)


async def test_the_real_service_matches_the_in_process_generator(tiny_checkpoint):
    moderator = Moderator(use_classifier=False)
    registry = ModelRegistry("cpu")
    registry.load(tiny_checkpoint, model_id="tiny")
    local = InProcessGenerator(registry, moderator=moderator)
    seeded = REQUEST.model_copy(update={"params": REQUEST.params.model_copy(update={"seed": 9})})
    expected = await local.generate(seeded)
    with running_service(tiny_checkpoint, max_context_chars=500) as server:
        remote = HttpGenerator([server.url], timeout_s=30)
        answer = await remote.generate(seeded)
        models = await remote.list_models()
        with pytest.raises(UnknownModel, match="nope"):
            await remote.generate(seeded.model_copy(update={"model": "nope"}))
        long = seeded.model_copy(update={"context": StoryContext(premise="x" * 600)})
        with pytest.raises(InvalidGenerationRequest, match="at most 500"):
            await remote.generate(long)
        await remote.aclose()
    assert [c.text for c in answer.candidates] == [c.text for c in expected.candidates]
    assert answer.text == expected.text and answer.model == expected.model == "tiny"
    assert [m.id for m in models] == ["tiny"]
