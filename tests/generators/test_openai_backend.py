"""The `openai` generator backend: against a live `talewright serve` (its OpenAI endpoints,
behind the API key) for every kind, and against a small misbehaving server for each way an
OpenAI-compatible server fails."""

from __future__ import annotations

import asyncio
import itertools
import json

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, StreamingResponse
from test_service_support import running_service

from generators.client import Generator
from generators.errors import (
    GeneratorOverloaded,
    GeneratorTimeout,
    GeneratorUnavailable,
    UnknownModel,
)
from generators.moderation import Moderator
from generators.openai_backend import OpenAIGenerator
from generators.openai_prompt import story_messages
from generators.schemas import (
    CharacterSheet,
    GenerateRequest,
    GenerationParams,
    ModerationVerdict,
    StoryContext,
    TurnContext,
)
from generators.service.live import LiveServer

KEY = "backend-key"
MODERATOR = Moderator(use_classifier=False)
CONTEXT = StoryContext(
    genre="mystery",
    mood="tense",
    title="The Lost Key",
    premise="Mira searches the old house for a missing key.",
    characters=[CharacterSheet(name="Mira", personality="brave and curious")],
    turns=[
        TurnContext(author="ana", text="Mira found a key under the old tree."),
        TurnContext(author="", text="The wind moved the leaves of the old tree."),
    ],
    style_hints={"sentences": "short"},
)


def ask(kind: str = "continue", n: int = 2, **context) -> GenerateRequest:
    return GenerateRequest(
        kind=kind,
        context=CONTEXT.model_copy(update=context),
        params=GenerationParams(n=n, max_tokens=30, seed=3),
    )


def test_the_prompt_carries_the_story_and_one_instruction_per_kind():
    for kind, expected in (
        ("continue", "Continue the story"),
        ("dialogue", "Mira's next line"),
        ("twist", "plot twist"),
        ("poem", "short poem"),
        ("opening", "opening paragraph"),
    ):
        messages = story_messages(ask(kind, speaker="Mira"))
        system = messages[0]["content"]
        assert "title: The Lost Key" in system and "genre: mystery" in system
        assert "mood: tense" in system and "- Mira: brave and curious" in system
        assert "style: sentences short" in system
        assert expected in messages[-1]["content"] and messages[-1]["name"] == "instruction"
        turns = [m["role"] for m in messages[1:-1]]
        assert turns == ([] if kind in ("poem", "opening") else ["user", "assistant"])


@pytest.fixture(scope="module")
def service(tiny_checkpoint):
    with running_service(tiny_checkpoint, api_key=KEY) as live:
        yield live


def backend(url: str, **options) -> OpenAIGenerator:
    options = {"api_key": KEY, "moderator": MODERATOR, "timeout_s": 30, **options}
    return OpenAIGenerator(f"{url}/v1", "tiny", **options)


async def test_every_kind_against_talewright_serve(service):
    generator = backend(service.url)
    assert isinstance(generator, Generator)
    try:
        for kind in ("continue", "dialogue", "twist", "poem", "opening"):
            request = ask(kind, genre="children", speaker="Mira" if kind == "dialogue" else None)
            answer = await generator.generate(request)
            assert answer.text.strip() and answer.kind == kind and answer.model == "tiny"
            assert len(answer.candidates) == 2 and not answer.fallback
            assert all(c.moderation.verdict != "block" for c in answer.candidates)
            if kind == "dialogue":
                assert answer.text.startswith('"')
        assert [m.id for m in await generator.list_models()] == ["tiny"]
    finally:
        await generator.aclose()


async def test_a_streamed_turn_shows_its_text_as_it_grows(service):
    generator = backend(service.url)
    shown: list[str] = []

    async def on_text(text: str) -> None:
        shown.append(text)

    try:
        answer = await generator.stream(ask("continue", n=1, genre="children"), on_text)
    finally:
        await generator.aclose()
    assert shown and answer.text == shown[-1].strip()
    assert all(later.startswith(earlier) for earlier, later in itertools.pairwise(shown))


async def test_a_wrong_key_is_a_clear_failure(service):
    generator = backend(service.url, api_key="wrong")
    with pytest.raises(GeneratorUnavailable, match="refused the API key"):
        await generator.generate(ask())
    await generator.aclose()


class Misbehaving:
    """An OpenAI-compatible server that fails the way `mode` says, counting the requests."""

    def __init__(self):
        self.mode = "ok"
        self.requests: list[dict] = []
        self.app = FastAPI()
        self.app.post("/v1/chat/completions")(self.chat)
        self.app.get("/v1/models")(lambda: {"object": "list", "data": [{"id": "big"}]})

    async def chat(self, request: Request):
        body = await request.json()
        self.requests.append(body)
        if self.mode == "busy":
            return JSONResponse({"error": {"message": "slow down"}}, 429, {"Retry-After": "7"})
        if self.mode == "down":
            return JSONResponse({"error": {"message": "loading"}}, 503, {"Retry-After": "3"})
        if self.mode == "malformed":
            return PlainTextResponse('{"choices": [', media_type="application/json")
        if self.mode == "nomodel":
            return JSONResponse({"error": {"message": "no model 'tiny'"}}, 404)
        if body.get("stream"):
            return StreamingResponse(self.stream(), media_type="text/event-stream")
        text = "A forbidden line." if self.mode == "nasty" else "The door creaked open."
        choice = {"index": 0, "message": {"role": "assistant", "content": text}}
        return {"choices": [choice], "usage": {"completion_tokens": 5}}  # ignores n

    async def stream(self):
        chunk = {"choices": [{"index": 0, "delta": {"content": "The door "}}]}
        yield f"data: {json.dumps(chunk)}\n\n"
        if self.mode == "slow":
            await asyncio.sleep(30)
        # "drop": the stream ends with no finish_reason and no [DONE]


@pytest.fixture(scope="module")
def bad():
    server = Misbehaving()
    with LiveServer(server.app) as live:
        server.url = live.url
        yield server


@pytest.fixture
async def flaky(bad):
    bad.mode, bad.requests = "ok", []
    generator = OpenAIGenerator(f"{bad.url}/v1", "tiny", moderator=MODERATOR, timeout_s=0.5)
    yield generator
    await generator.aclose()


async def test_a_server_that_ignores_n_is_asked_once_per_candidate(bad, flaky):
    answer = await flaky.generate(ask(n=3))
    assert len(answer.candidates) == 3 and len(bad.requests) == 3
    assert answer.text == "The door creaked open."
    assert [m.family for m in await flaky.list_models()] == ["openai"]


@pytest.mark.parametrize(("mode", "retry_after"), [("busy", 7), ("down", 3)])
async def test_busy_servers_are_overloaded_with_their_retry_after(bad, flaky, mode, retry_after):
    bad.mode = mode
    with pytest.raises(GeneratorOverloaded) as busy:
        await flaky.generate(ask())
    assert busy.value.retry_after == retry_after


async def test_malformed_json_and_unknown_models_are_clear_failures(bad, flaky):
    bad.mode = "malformed"
    with pytest.raises(GeneratorUnavailable, match="malformed"):
        await flaky.generate(ask())
    bad.mode = "nomodel"
    with pytest.raises(UnknownModel):
        await flaky.generate(ask())


async def test_a_dropped_or_stalled_stream_fails_plainly(bad, flaky):
    seen: list[str] = []

    async def on_text(text: str) -> None:
        seen.append(text)

    bad.mode = "drop"
    with pytest.raises(GeneratorUnavailable, match="before it finished"):
        await flaky.stream(ask(n=1), on_text)
    bad.mode = "slow"
    with pytest.raises(GeneratorTimeout):
        await flaky.stream(ask(n=1), on_text)
    assert seen == ["The door ", "The door "]


class BlocksForbidden(Moderator):
    def check_many(self, texts, level="teen", *args, **kwargs):
        verdicts = super().check_many(texts, level, *args, **kwargs)
        blocked = ModerationVerdict(verdict="block", categories=["test"], level=level)
        return [blocked if "forbidden" in t else v for t, v in zip(texts, verdicts, strict=True)]


async def test_blocked_answers_are_regenerated_then_replaced_by_the_safe_line(bad):
    bad.mode, bad.requests = "nasty", []
    moderator = BlocksForbidden(use_classifier=False)
    generator = OpenAIGenerator(f"{bad.url}/v1", "tiny", moderator=moderator)
    answer = await generator.generate(ask(n=1))
    await generator.aclose()
    assert answer.fallback and "forbidden" not in answer.text
    assert len(bad.requests) == 3  # the first try and two regenerations
