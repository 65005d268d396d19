"""The sentence VAE in serving: twists from latent space, the style reranker and sentence vectors,
through the in-process generator, the HTTP service and the HTTP client."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from test_service_support import GatedModel, running_service, tiny_registry
from vae_testing import tiny_vae_run

from generators.client import HttpGenerator, InProcessGenerator, SentenceEmbedder
from generators.errors import NoSentenceModel
from generators.inference.latent import LatentTools, load_latent
from generators.inference.registry import ModelRegistry
from generators.inference.style import STYLE_WEIGHT, style_lean
from generators.moderation import Moderator
from generators.schemas import EmbedRequest, GenerateRequest
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


def styled(request: GenerateRequest, vector: list[float]) -> GenerateRequest:
    return request.model_copy(
        update={
            "context": request.context.model_copy(update={"style_vector": vector}),
            "params": request.params.model_copy(update={"rerank": "style"}),
        }
    )


def continuation(seed: int = 2, kind: str = "continue") -> GenerateRequest:
    return GenerateRequest.model_validate(
        {"kind": kind, "context": STORY, "params": {"n": 4, "seed": seed, "max_tokens": 20}}
    )


def test_style_led_candidates_open_near_the_writer_and_differ_on_reroll(generator, tools):
    """The lead decodes one opening per candidate from around the style vector and lets the
    language model go on; a reroll (new seed) or another attempt draws new latents."""
    served = generator.registry.get(None)
    vector = tools.encoder.encode([TURN])[0]
    request = styled(continuation(), vector)
    assert tools.leads_style(request, served)
    led = tools.style_led(request, served, 0)
    assert 1 <= len(led) <= request.params.n
    assert all(c.moderation is not None and c.moderation.verdict != "block" for c in led)
    assert all(c.score < 0 and c.text.strip() for c in led)
    assert [c.text for c in tools.style_led(request, served, 0)] == [c.text for c in led]
    again = {c.text for c in tools.style_led(request, served, 1)}
    reroll = {c.text for c in tools.style_led(styled(continuation(seed=3), vector), served, 0)}
    assert again != {c.text for c in led} and reroll != {c.text for c in led}


def test_only_styled_continuations_are_led(generator, tools):
    served = generator.registry.get(None)
    vector = tools.encoder.encode([TURN])[0]
    assert not tools.leads_style(continuation(), served)  # no style vector
    assert not tools.leads_style(styled(continuation(), vector[:-1]), served)  # wrong size
    dialogue = styled(continuation(kind="dialogue"), vector)
    dialogue.context.speaker = "Zorbo"
    assert not tools.leads_style(dialogue, served)


def test_style_rerank_chooses_among_the_models_and_the_led_candidates(generator, tools):
    """rerank="style" reaches the VAE: the n answered are the best of the model's own
    candidates and the style-led ones, each scored as mean log-prob plus STYLE_WEIGHT times its
    lean towards the writer's vector."""
    request = continuation()
    by_logprob = request.params.model_copy(update={"rerank": "logprob"})
    plain = asyncio.run(generator.generate(request.model_copy(update={"params": by_logprob})))
    vector = tools.encoder.encode([TURN])[0]
    served = generator.registry.get(None)
    led = tools.style_led(styled(request, vector), served, 0)
    fluency = {c.text: c.score for c in [*plain.candidates, *led]}
    ranked = asyncio.run(generator.generate(styled(request, vector)))
    assert len(ranked.candidates) == request.params.n
    for candidate in ranked.candidates:
        assert candidate.text in fluency
        assert candidate.score == pytest.approx(
            fluency[candidate.text] + STYLE_WEIGHT * style_lean(candidate.latent, vector),
            abs=2e-3,
        )
    scores = [c.score for c in ranked.candidates]
    assert scores == sorted(scores, reverse=True)
    everyone = [
        fluency[text] + STYLE_WEIGHT * style_lean(tools.encoder.encode([text])[0], vector)
        for text in fluency
    ]
    assert scores == pytest.approx(sorted(everyone, reverse=True)[: len(scores)], abs=2e-3)


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
        vector = tools.encoder.encode([TURN])[0]
        styled_request = styled(continuation(), vector).model_dump(mode="json")
        answer = http.post("/v1/generate", json=styled_request)
        assert answer.status_code == 200, answer.text
        candidates = answer.json()["candidates"]
        assert len(candidates) == 4
        assert all(len(c["latent"]) == tools.latent_dim for c in candidates)
        listed = http.get("/v1/models").json()["data"]
        families = {m["talewright"]["family"] for m in listed}
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


def test_a_failing_style_lead_leaves_the_models_own_candidates(generator, tools, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("decoder exploded")

    monkeypatch.setattr(tools.lead, "candidates", broken)
    vector = tools.encoder.encode([TURN])[0]
    request = continuation()
    # The same n samples without a lead (the `story` reranker would choose n of a larger pool).
    plain_request = request.model_copy(
        update={"params": request.params.model_copy(update={"rerank": "logprob"})}
    )
    plain = asyncio.run(generator.generate(plain_request))
    answer = asyncio.run(generator.generate(styled(request, vector)))
    assert {c.text for c in answer.candidates} == {c.text for c in plain.candidates}
    assert not answer.fallback


def test_with_a_passage_index_a_twist_is_a_corpus_passage_that_turns_the_story(
    tiny_checkpoint, tools
):
    """Where an index serves the story, a twist is not planned in latent space: passages that
    open with a turn of events compete with the model's own twists under the story reranker
    (the moderator here lets only the passage through)."""
    from test_retrieval import NAMES_STORY, OnlyAbout, documents

    from generators.retrieval.index import build_index
    from generators.retrieval.source import RetrievalSource

    gust = (
        "Tom had a red kite. Tom played with the kite in the park every day. "
        "Suddenly, a strong wind took the kite away. The kite flew over the trees."
    )
    registry = ModelRegistry()
    registry.load(tiny_checkpoint, model_id="tiny")
    generator = InProcessGenerator(
        registry,
        moderator=OnlyAbout("strong wind"),
        latent=tools,
        retrieval=RetrievalSource(build_index(documents(gust, NAMES_STORY))),
        max_regenerations=0,
    )
    response = asyncio.run(generator.generate(twist(rerank="story")))
    assert not response.fallback
    assert response.candidates[0].origin == "retrieved"
    assert response.text == gust[gust.index("Suddenly") :]
    assert response.candidates[0].latent is None
