"""The sentence VAE in serving: twists from latent space, the style reranker and sentence vectors,
through the in-process generator, the HTTP service and the HTTP client."""

from __future__ import annotations

import asyncio
import math

import httpx
import pytest
from test_service_support import GatedModel, running_service, tiny_registry
from vae_testing import tiny_vae_run

from generators.client import HttpGenerator, InProcessGenerator, SentenceEmbedder
from generators.errors import NoSentenceModel
from generators.latent import LatentTools, load_latent
from generators.moderation import Moderator
from generators.registry import ModelRegistry
from generators.schemas import EmbedRequest, GenerateRequest
from generators.style import STYLE_WEIGHT
from generators.text.sentences import split_sentences

STORY = {
    "genre": "children",
    "characters": [{"name": "Zorbo", "description": "a brave green frog"}],
    "turns": [
        {"author": "ana", "text": "Once upon a time, there was a little frog named Zorbo."},
        {"author": "ben", "text": "Zorbo loved to play with a red kite in the park."},
    ],
}
TURN = "Lily loved to play with a red ball. The night had fallen upon the old castle."


def twist(seed: int = 4, **params) -> GenerateRequest:
    return GenerateRequest.model_validate(
        {
            "kind": "twist",
            "context": STORY,
            "params": {"n": 2, "seed": seed, "max_tokens": 24, **params},
        }
    )


@pytest.fixture(scope="session")
def vae_path(tmp_path_factory, tiny_corpus_dir, tiny_run):
    run = tiny_vae_run(
        "defended", tmp_path_factory.mktemp("vae"), tiny_corpus_dir, tiny_run / "tokenizer.json"
    )
    return run / "best"


@pytest.fixture(scope="session")
def tools(vae_path) -> LatentTools:
    return LatentTools(vae_path, Moderator(use_classifier=False))


@pytest.fixture(scope="module")
def generator(tiny_checkpoint, tools) -> InProcessGenerator:
    registry = ModelRegistry()
    registry.load(tiny_checkpoint, model_id="tiny")
    return InProcessGenerator(registry, moderator=Moderator(use_classifier=False), latent=tools)


def test_twists_come_from_latent_space_and_rerolls_differ(generator, tools):
    first = asyncio.run(generator.generate(twist(seed=4)))
    again = asyncio.run(generator.generate(twist(seed=4)))
    reroll = asyncio.run(generator.generate(twist(seed=5)))
    assert first.kind == "twist" and not first.fallback
    assert all(len(c.latent or []) == tools.latent_dim for c in first.candidates)
    assert [c.text for c in first.candidates] == [c.text for c in again.candidates]
    assert {c.text for c in first.candidates} != {c.text for c in reroll.candidates}


def test_without_a_vae_twists_come_from_the_language_model(tiny_checkpoint):
    plain = InProcessGenerator.from_checkpoints([tiny_checkpoint], vae=None)
    response = asyncio.run(plain.generate(twist()))
    assert response.candidates and all(c.latent is None for c in response.candidates)
    with pytest.raises(NoSentenceModel, match="no sentence VAE"):
        asyncio.run(plain.embed(EmbedRequest(texts=[TURN])))


def test_a_vae_with_another_tokenizer_is_not_used_for_twists(generator, tools, monkeypatch):
    served = generator.registry.get("tiny")
    monkeypatch.setattr(tools, "_compatible", {})
    monkeypatch.setattr(served.tokenizer, "to_json", lambda: "{}")
    assert not tools.plans_twists_for(served)
    response = asyncio.run(generator.generate(twist()))
    assert all(c.latent is None for c in response.candidates)


def test_a_missing_vae_folder_is_logged_and_skipped(tmp_path, caplog):
    assert load_latent(None) is None
    assert load_latent(tmp_path / "nothing") is None
    assert "twists use the language model alone" in caplog.text


def test_embed_gives_one_vector_per_sentence(generator, tools):
    assert isinstance(generator, SentenceEmbedder)
    response = asyncio.run(generator.embed(EmbedRequest(texts=[TURN, "   ", "Hi"])))
    assert [len(v) for v in response.vectors] == [len(split_sentences(TURN)), 0, 1]
    assert response.latent_dim == tools.latent_dim
    expected = tools.encoder.sentence_vectors(split_sentences(TURN)).tolist()
    for got, want in zip(response.vectors[0], expected, strict=True):
        assert got == pytest.approx(want, abs=1e-4)


def test_models_list_the_vae(generator, tools):
    families = {m.id: m.family for m in asyncio.run(generator.list_models())}
    assert families == {"tiny": "lstm", tools.model_id: "vae"}


def test_style_rerank_scores_fluency_minus_distance_to_the_writer(generator, tools):
    """rerank="style" reaches the VAE: each score is the mean log-prob minus STYLE_WEIGHT times
    the distance to the writer's vector, and the candidate at distance 0 gains the most."""
    request = GenerateRequest.model_validate(
        {"kind": "continue", "context": STORY, "params": {"n": 4, "seed": 2, "max_tokens": 20}}
    )
    plain = asyncio.run(generator.generate(request))
    fluency = {c.text: c.score for c in plain.candidates}
    target_text = plain.candidates[-1].text
    vector = tools.encoder.encode([target_text])[0]
    styled = request.model_copy(
        update={
            "context": request.context.model_copy(update={"style_vector": vector}),
            "params": request.params.model_copy(update={"rerank": "style"}),
        }
    )
    ranked = asyncio.run(generator.generate(styled))
    assert set(fluency) == {c.text for c in ranked.candidates}
    for candidate in ranked.candidates:
        distance = math.dist(candidate.latent, vector)
        assert candidate.score == pytest.approx(
            fluency[candidate.text] - STYLE_WEIGHT * distance, abs=2e-3
        )
    assert [c.score for c in ranked.candidates] == sorted(
        (c.score for c in ranked.candidates), reverse=True
    )
    penalties = {c.text: fluency[c.text] - c.score for c in ranked.candidates}
    assert penalties[target_text] == pytest.approx(0.0, abs=2e-3)
    assert min(penalties.values()) == penalties[target_text]


@pytest.fixture(scope="module")
def service(tiny_checkpoint, tools):
    with running_service(tiny_checkpoint, latent=tools) as live:
        yield live


def test_the_service_embeds_and_plans_twists(service, tools):
    with httpx.Client(base_url=service.url, timeout=60) as http:
        embedded = http.post("/v1/embed", json={"texts": [TURN]})
        assert embedded.status_code == 200, embedded.text
        assert len(embedded.json()["vectors"][0]) == len(split_sentences(TURN))
        assert http.post("/v1/embed", json={"texts": []}).status_code == 422
        assert http.post("/v1/embed", json={"texts": ["x" * 8001]}).status_code == 422
        answer = http.post("/v1/generate", json=twist().model_dump(mode="json"))
        assert answer.status_code == 200, answer.text
        assert all(len(c["latent"]) == tools.latent_dim for c in answer.json()["candidates"])
        families = {m["family"] for m in http.get("/v1/models").json()}
        assert families == {"lstm", "vae"}
        assert "talewright_twist_seconds_count 1.0" in http.get("/metrics").text


def test_the_http_client_embeds_and_reports_a_missing_vae(service, tiny_checkpoint):
    async def ask(url: str) -> list[list[list[float]]]:
        client = HttpGenerator([url], timeout_s=30)
        try:
            return (await client.embed(EmbedRequest(texts=[TURN]))).vectors
        finally:
            await client.aclose()

    assert len(asyncio.run(ask(service.url))[0]) == len(split_sentences(TURN))
    with running_service(tiny_checkpoint) as bare, pytest.raises(NoSentenceModel):
        asyncio.run(ask(bare.url))


def test_an_embed_does_not_wait_behind_a_twist(tiny_checkpoint, tools):
    """While a twist is being written (its language model held at a gate), sentence vectors for
    a new turn are still answered."""
    registry = tiny_registry(tiny_checkpoint, wrap=GatedModel)
    gated = registry.get("tiny").checkpoint.model
    local = InProcessGenerator(registry, latent=tools)

    async def scenario() -> None:
        twisting = asyncio.create_task(local.generate(twist()))
        assert await asyncio.to_thread(gated.entered.wait, 10)
        embedded = await asyncio.wait_for(local.embed(EmbedRequest(texts=[TURN])), 10)
        assert not twisting.done()
        gated.gate.set()
        assert (await twisting).candidates
        assert len(embedded.vectors[0]) == len(split_sentences(TURN))

    asyncio.run(scenario())
