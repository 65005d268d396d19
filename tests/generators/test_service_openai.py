"""The OpenAI-compatible endpoints, spoken to by the official `openai` client, unmodified,
against the real app under uvicorn on loopback, behind an API key."""

from __future__ import annotations

import httpx
import openai
import pytest
from test_service_support import running_service, tiny_registry

from generators.moderation import Moderator
from generators.schemas import ModerationVerdict

KEY = "test-openai-key"
STORY = "Lily found a key under the old tree.\n\nShe ran to show her mom."


@pytest.fixture(scope="module")
def server(tiny_checkpoint):
    registry = tiny_registry(tiny_checkpoint, tiny_checkpoint)
    with running_service(tiny_checkpoint, registry=registry, api_key=KEY) as live:
        yield live


@pytest.fixture
def client(server):
    with openai.OpenAI(base_url=f"{server.url}/v1", api_key=KEY, max_retries=0) as client:
        yield client


def test_a_completion_continues_the_prompt_with_usage(client):
    answer = client.completions.create(model="tiny", prompt=STORY, max_tokens=24, seed=3)
    assert answer.object == "text_completion" and answer.model == "tiny"
    (choice,) = answer.choices
    assert choice.text.strip() and choice.finish_reason in ("stop", "length")
    usage = answer.usage
    assert usage.prompt_tokens > 10 and 0 < usage.completion_tokens <= 24
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens


def test_a_seed_gives_the_same_completion_twice(client):
    first = client.completions.create(model="tiny", prompt=STORY, max_tokens=20, seed=11)
    second = client.completions.create(model="tiny", prompt=STORY, max_tokens=20, seed=11)
    assert first.choices[0].text == second.choices[0].text


def test_n_gives_that_many_choices(client):
    answer = client.completions.create(model="tiny", prompt=STORY, max_tokens=16, n=3, seed=1)
    assert [c.index for c in answer.choices] == [0, 1, 2]
    assert all(c.text.strip() for c in answer.choices)


def test_chat_reads_the_system_hints_as_the_story_settings(client):
    answer = client.chat.completions.create(
        model="tiny",
        messages=[
            {"role": "system", "content": "genre: children\nkind: dialogue\nspeaker: Mira"},
            {"role": "user", "content": "Mira found a shiny key in the garden."},
            {"role": "assistant", "content": "Tom came running to see it."},
        ],
        max_tokens=30,
        n=2,
        seed=4,
    )
    assert answer.object == "chat.completion" and len(answer.choices) == 2
    for choice in answer.choices:
        assert choice.message.role == "assistant"
        assert choice.message.content.startswith('"')  # a character's line
    assert answer.usage.completion_tokens > 0


def test_chat_streams_word_by_word_and_ends_with_done(client):
    chunks = list(
        client.chat.completions.create(
            model="tiny",
            messages=[{"role": "user", "content": STORY}],
            max_tokens=40,
            seed=5,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    pieces = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta]
    text = "".join(p or "" for p in pieces)
    assert text.strip()
    assert chunks[0].choices[0].delta.role == "assistant"
    endings = [c.choices[0].finish_reason for c in chunks if c.choices]
    assert endings[-1] in ("stop", "length") and not any(endings[:-1])
    assert len([p for p in pieces if p]) > 1 or len(text.split()) < 3
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0
    assert Moderator(use_classifier=False).check(text, "teen").verdict != "block"


def test_streamed_completions_keep_each_choice_apart(client):
    stream = client.completions.create(
        model="tiny", prompt=STORY, max_tokens=24, n=2, seed=8, stream=True
    )
    texts, endings = {0: "", 1: ""}, {}
    for chunk in stream:
        for choice in chunk.choices:
            texts[choice.index] += choice.text
            if choice.finish_reason:
                endings[choice.index] = choice.finish_reason
    assert all(t.strip() for t in texts.values()) and set(endings) == {0, 1}


def test_errors_come_in_openai_shape(client, server):
    with pytest.raises(openai.NotFoundError) as missing:
        client.completions.create(model="gpt-4", prompt=STORY)
    assert missing.value.code == "model_not_found"
    with pytest.raises(openai.BadRequestError) as bad:
        client.chat.completions.create(
            model="tiny", messages=[{"role": "system", "content": "genre: westerns"}]
        )
    assert "westerns" in bad.value.message
    with pytest.raises(openai.BadRequestError) as too_many:
        client.completions.create(model="tiny", prompt=STORY, n=40)
    assert too_many.value.param == "n"
    raw = httpx.post(
        f"{server.url}/v1/completions",
        content=b'{"prompt": ',
        headers={"Authorization": f"Bearer {KEY}", "content-type": "application/json"},
    )
    assert raw.status_code == 400
    assert set(raw.json()["error"]) == {"message", "type", "param", "code"}


def test_the_endpoints_need_the_key(server):
    for key in ("wrong", ""):
        with (
            openai.OpenAI(base_url=f"{server.url}/v1", api_key=key or "x", max_retries=0) as bad,
            pytest.raises(openai.AuthenticationError),
        ):
            bad.completions.create(model="tiny", prompt=STORY, max_tokens=4)
    for path in ("/v1/completions", "/v1/chat/completions"):
        assert httpx.post(f"{server.url}{path}", json={}).status_code == 401


def test_models_are_listed_with_their_talewright_facts(client):
    models = client.models.list().data
    assert [m.id for m in models] == ["tiny", "tiny-1"]
    assert all(m.object == "model" and m.owned_by == "talewright" for m in models)
    facts = models[0].model_extra["talewright"]
    assert facts["family"] == "lstm" and facts["default"] is True and facts["vocab_size"] > 0


class BlockLongTexts(Moderator):
    """Blocks any text longer than `limit` characters: a story that turns bad as it grows."""

    def __init__(self, limit: int):
        super().__init__(use_classifier=False)
        self.limit = limit

    def check_many(self, texts, level="teen", *args, **kwargs):
        verdicts = super().check_many(texts, level, *args, **kwargs)
        blocked = ModerationVerdict(verdict="block", categories=["test"], level=level)
        return [blocked if len(t) > self.limit else v for t, v in zip(texts, verdicts, strict=True)]


def test_a_stream_that_becomes_blocked_stops_with_content_filter(tiny_checkpoint):
    with running_service(tiny_checkpoint, moderator=BlockLongTexts(limit=25)) as server:
        client = openai.OpenAI(base_url=f"{server.url}/v1", api_key="none", max_retries=0)
        chunks = list(
            client.completions.create(
                model="tiny", prompt=STORY, max_tokens=60, seed=2, stream=True
            )
        )
        text = "".join(c.choices[0].text for c in chunks if c.choices)
        assert chunks[-1].choices[0].finish_reason == "content_filter"
        assert len(text) <= 25
        whole = client.completions.create(model="tiny", prompt=STORY, max_tokens=60, seed=2)
        (choice,) = whole.choices  # every candidate blocked: the safe line, said so
        assert choice.finish_reason == "content_filter" or len(choice.text) <= 25
