"""Request size: bodies over max_body_bytes get 413 while being read (never buffered whole), and
style hints are bounded in the schema and counted in the context limit."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from test_service_support import STORY, body, running_service

from generators.context_size import context_chars
from generators.schemas import MAX_STYLE_HINTS, EmbedRequest, StoryContext
from generators.service.body_limit import BodyLimitMiddleware, BodyTooLarge
from generators.service.settings import ServiceSection

LIMIT = 4096
JSON = {"content-type": "application/json"}


def test_a_chunked_body_is_cut_off_at_the_chunk_that_crosses_the_limit():
    received = 0

    async def receive() -> dict:
        nonlocal received
        received += 1
        return {"type": "http.request", "body": b"x" * 1000, "more_body": True}

    async def app(scope, receive, send) -> None:
        while (await receive())["more_body"]:
            pass

    async def send(message) -> None:
        raise AssertionError("the middleware itself sends nothing here")

    scope = {"type": "http", "headers": [(b"transfer-encoding", b"chunked")]}
    with pytest.raises(BodyTooLarge):
        asyncio.run(BodyLimitMiddleware(app, LIMIT)(scope, receive, send))
    assert received == 5  # 5,000 bytes: the first chunk past 4,096, and not one more


def padded(size: int) -> bytes:
    request = body()
    request["context"] = {**STORY, "turns": [{"text": ""}]}
    blank = len(json.dumps(request).encode())
    request["context"]["turns"][0]["text"] = "p" * (size - blank)
    data = json.dumps(request).encode()
    assert len(data) == size
    return data


def test_the_service_refuses_large_bodies_with_413(tiny_checkpoint):
    def chunks():
        for _ in range(8):
            yield b" " * 1000

    with (
        running_service(tiny_checkpoint, max_body_bytes=LIMIT) as server,
        httpx.Client(base_url=server.url, timeout=60, headers=JSON) as http,
    ):
        declared = http.post("/v1/generate", content=padded(LIMIT + 1))
        streamed = http.post("/v1/moderate", content=chunks())
        fits = http.post("/v1/generate", content=padded(LIMIT))
    assert declared.status_code == 413 and declared.json()["error"] == "body_too_large"
    assert "4097 bytes" in declared.json()["detail"]
    assert streamed.status_code == 413 and streamed.json()["error"] == "body_too_large"
    assert f"larger than {LIMIT} bytes" in streamed.json()["detail"]
    assert fits.status_code == 200, fits.text


def test_the_default_limit_fits_the_largest_valid_embed():
    largest = EmbedRequest(texts=["word " * 1600] * 64).model_dump_json().encode()
    assert len(largest) < ServiceSection().max_body_bytes < 40_000_000


@pytest.mark.parametrize(
    "hints",
    [
        {f"h{i}": 1 for i in range(MAX_STYLE_HINTS + 1)},
        {"length": "x" * 201},
        {"k" * 41: "short"},
    ],
)
def test_style_hints_are_bounded(hints):
    with pytest.raises(ValueError, match="style_hints"):
        StoryContext(style_hints=hints)


def test_style_hints_count_in_the_context_limit(tiny_checkpoint):
    hints = {"tone": "t" * 200, "length": "short"}
    context = StoryContext.model_validate({**STORY, "style_hints": hints})
    plain = StoryContext.model_validate(STORY)
    assert context_chars(context) == context_chars(plain) + 4 + 200 + 6 + 5
    request = body()
    request["context"] = {**STORY, "style_hints": hints}
    with running_service(tiny_checkpoint, max_context_chars=200) as server:
        refused = httpx.post(f"{server.url}/v1/generate", json=request, timeout=60)
    assert refused.status_code == 413 and refused.json()["error"] == "context_too_large"
