"""Serving a model brought from elsewhere: tiny random Llama and GPT-2 folders, each with its own
tokenizer, named in the settings and served by the real service over loopback HTTP and by the
in-process generator, through the same contract, sampling, reranking and moderation."""

from __future__ import annotations

import asyncio

import httpx
import pytest
import torch
from byo_support import write_gpt2, write_llama
from transformers import T5Config, T5ForConditionalGeneration

from bot.settings import load_settings
from generators.client import InProcessGenerator
from generators.errors import CheckpointError
from generators.inference.model_specs import ModelSpec
from generators.moderation import Moderator
from generators.schemas import GenerateRequest
from generators.service import create_app
from generators.service.live import LiveServer
from generators.service.loading import load_registry
from generators.service.settings import ServiceSection

STORY = {
    "genre": "fairy_tales",
    "mood": "calm",
    "premise": "A fox finds a silver key",
    "characters": [{"name": "Mira", "personality": "brave"}, {"name": "Tom"}],
    "turns": [{"author": "ana", "text": "Mira walked to the old lighthouse by the sea."}],
}
PLAIN = {
    "prompt_template": "plain",
    "genre": False,
    "mood": False,
    "kind_tokens": False,
    "speaker": False,
}


def request(kind: str = "continue", model: str | None = None, **params) -> dict:
    context = {**STORY, "speaker": "Tom"} if kind == "dialogue" else STORY
    sampling = {"max_tokens": 16, "n": 2, "seed": 3, **params}
    return {"kind": kind, "context": context, "params": sampling, "model": model}


@pytest.fixture(scope="module")
def specs(tmp_path_factory) -> list[ModelSpec]:
    llama = write_llama(tmp_path_factory.mktemp("llama"))
    gpt2 = write_gpt2(tmp_path_factory.mktemp("gpt2"))
    return [
        ModelSpec(id="byo-llama", path=llama, format="huggingface"),
        ModelSpec(id="byo-gpt2", path=gpt2, format="huggingface", max_positions=200),
    ]


def section(specs: list[ModelSpec]) -> ServiceSection:
    return ServiceSection(checkpoints=[], models=specs, vae_checkpoint=None, threads=1)


@pytest.fixture(scope="module")
def http(specs):
    app = create_app(section(specs), moderator=Moderator(use_classifier=False))
    with LiveServer(app) as server, httpx.Client(base_url=server.url, timeout=60) as client:
        yield client


@pytest.mark.parametrize("model", ["byo-llama", "byo-gpt2"])
def test_the_service_continues_a_story_with_a_brought_model(http, model):
    response = http.post("/v1/generate", json=request(model=model))
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["model"] == model and data["fallback"] is False
    assert len(data["candidates"]) == 2 and all(c["tokens"] > 0 for c in data["candidates"])
    assert "\n" not in data["text"]  # one paragraph: the turn ends at the first line break


def test_dialogue_and_twist_are_asked_for_in_prose(http):
    line = http.post("/v1/generate", json=request("dialogue", rerank="logprob")).json()
    assert line["kind"] == "dialogue" and line["text"].startswith('"')
    twist = http.post("/v1/generate", json=request("twist", model="byo-gpt2")).json()
    assert twist["text"].startswith("Suddenly,")


def test_models_say_which_controls_a_brought_model_honours(http):
    listed = http.get("/v1/models").json()["data"]
    facts = {m["id"]: m["talewright"] for m in listed}
    assert set(facts) == {"byo-llama", "byo-gpt2"}
    assert facts["byo-llama"]["default"] is True
    assert facts["byo-llama"]["family"] == "huggingface"
    assert all(f["controls"] == PLAIN for f in facts.values())


def test_features_that_need_the_projects_tokenizer_are_refused_with_the_reason(http):
    response = http.post("/v1/generate", json=request(rerank="discriminator"))
    assert response.status_code == 422, response.text
    assert "byo-llama" in response.text and "same tokenizer" in response.text


def test_openai_completions_serve_a_brought_model(http):
    body = {"model": "byo-gpt2", "prompt": "Mira walked to the sea.", "max_tokens": 12}
    response = http.post("/v1/completions", json=body)
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["model"] == "byo-gpt2" and data["usage"]["prompt_tokens"] > 0


def test_a_max_tokens_beyond_a_small_context_is_refused(http):
    response = http.post("/v1/generate", json=request(model="byo-gpt2", max_tokens=190))
    assert response.status_code == 422, response.text
    assert "reads 200 tokens in all" in response.json()["detail"]


def test_the_in_process_generator_serves_a_brought_model(specs):
    generator = InProcessGenerator.from_checkpoints(
        [], models=specs, moderator=Moderator(use_classifier=False)
    )

    async def both():
        try:
            told = await generator.generate(GenerateRequest.model_validate(request()))
            said = await generator.generate(
                GenerateRequest.model_validate(request("dialogue", model="byo-gpt2"))
            )
            return told, said, await generator.list_models()
        finally:
            await generator.aclose()

    told, said, models = asyncio.run(both())
    assert told.model == "byo-llama" and not told.fallback and told.text
    assert said.model == "byo-gpt2" and said.text.startswith('"')
    assert all(m.controls is not None and m.controls.prompt_template == "plain" for m in models)


def test_folders_that_cannot_serve_stop_the_service_at_start_up(tmp_path):
    seq2seq = tmp_path / "t5"
    config = T5Config(d_model=16, d_ff=32, num_layers=1, num_heads=2, vocab_size=50, d_kv=8)
    T5ForConditionalGeneration(config).save_pretrained(seq2seq)
    bad = [ModelSpec(id="t5", path=seq2seq, format="huggingface")]
    app = create_app(section(bad), moderator=Moderator(use_classifier=False))

    async def start() -> None:
        async with app.router.lifespan_context(app):
            pass

    with pytest.raises(CheckpointError, match="does not hold a causal language model: T5Config"):
        asyncio.run(start())


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda tmp: tmp / "absent", "model folder not found"),
        (lambda tmp: write_gpt2(tmp, vocab_size=200), "they do not belong together"),
    ],
)
def test_a_missing_folder_or_a_mismatched_tokenizer_is_a_clear_error(tmp_path, make, reason):
    spec = ModelSpec(path=make(tmp_path), format="huggingface")
    with pytest.raises(CheckpointError, match=reason):
        load_registry([], torch.device("cpu"), [spec])


def test_the_config_names_a_brought_model_for_the_service_and_the_bot(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(
        "[[service.models]]\n"
        'id = "my-model"\npath = "/models/x"\nformat = "huggingface"\n'
        "[[generator.models]]\n"
        'path = "/models/y"\nformat = "huggingface"\nmax_positions = 2048\ndefault = true\n',
        encoding="utf-8",
    )
    settings = load_settings(str(config))
    (served,) = settings.service.models
    assert (served.id, str(served.path), served.format) == ("my-model", "/models/x", "huggingface")
    (own,) = settings.generator.models
    assert own.max_positions == 2048 and own.default and own.id is None
