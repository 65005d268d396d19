"""The transformer in the in-process generator: the LSTM's generation contract tests (imported,
so pytest runs them with this module's `generator`, a tiny transformer), its prompts fitted to
its context, and the VAE twists, style leads and SeqGAN reranker working beside it (it reads the
LSTM's tokenizer) or refused with a reason (when it reads another)."""

from __future__ import annotations

import asyncio

import pytest
import torch
from test_discriminator_rerank import expected_scores, judge_checkpoint  # noqa: F401
from test_latent import STORY, TURN, styled, tools, twist, vae_path  # noqa: F401
from test_sampling import (  # noqa: F401
    test_candidates_are_scored_and_sorted,
    test_dialogue_is_a_quoted_line,
    test_different_seeds_differ,
    test_every_kind_generates,
    test_max_tokens_bounds_length,
    test_no_control_token_text_in_output,
    test_same_seed_same_text,
    test_sample_after_writes_what_each_opening_would_alone,
)
from test_service_support import body, tiny_registry
from tiny_transformer import TINY_TRANSFORMER_POSITIONS

from generators.client import InProcessGenerator
from generators.errors import InvalidGenerationRequest, NoDiscriminator
from generators.inference import pipeline
from generators.inference.prompts import build_prompt
from generators.inference.twist import led_candidates
from generators.moderation import Moderator
from generators.schemas import GenerateRequest

LONG_STORY = {
    "genre": "children",
    "turns": [
        {"text": f"Tom and Mia played with a red ball in the park, day {i}."} for i in range(30)
    ],
}


@pytest.fixture(scope="module")
def generator(tiny_transformer):
    torch.set_num_threads(1)
    return InProcessGenerator.from_checkpoints([tiny_transformer])


def test_the_transformer_is_served_as_its_own_family(generator, tiny_checkpoint):
    [info] = asyncio.run(generator.list_models())
    assert info.family == "transformer" and info.parameters > 0
    served = generator.registry.get(None)
    assert served.max_positions == TINY_TRANSFORMER_POSITIONS
    lstm = tiny_registry(tiny_checkpoint).get(None)
    assert lstm.max_positions is None and lstm.prompt_budget(384, 500) == 384
    assert served.tokenizer.to_json() == lstm.tokenizer.to_json()


def test_prompts_are_cut_to_fit_the_context_with_the_text(generator):
    served = generator.registry.get(None)
    long = GenerateRequest.model_validate(
        {"context": LONG_STORY, "params": {"max_tokens": 100, "min_tokens": 100, "seed": 2}}
    )
    assert len(build_prompt(served.tokenizer, "continue", long.context, 384).ids) > 60
    budget = served.prompt_budget(generator.prompt_budget, 100)
    assert budget == TINY_TRANSFORMER_POSITIONS - 100
    prepared = pipeline.prepare(long, served.tokenizer, budget)
    assert 30 < len(prepared.prompt.ids) <= budget
    response = asyncio.run(generator.generate(long))
    assert not response.fallback and all(c.tokens <= 100 for c in response.candidates)


def test_a_max_tokens_that_leaves_no_room_for_the_story_is_refused(generator):
    greedy = GenerateRequest.model_validate({"context": STORY, "params": {"max_tokens": 140}})
    with pytest.raises(InvalidGenerationRequest, match="ask for at most 128"):
        asyncio.run(generator.generate(greedy))


@pytest.fixture(scope="module")
def latent_generator(tiny_transformer, tools):  # noqa: F811
    return InProcessGenerator(
        tiny_registry(tiny_transformer), moderator=Moderator(use_classifier=False), latent=tools
    )


def test_twists_and_style_leads_come_from_latent_space(latent_generator, tools):  # noqa: F811
    served = latent_generator.registry.get(None)
    assert tools.plans_twists_for(served)
    request = twist(seed=4)
    sentences = tools.planner.twist_sentences(request.context, 2, seed=9)
    prompt = build_prompt(served.tokenizer, "twist", request.context, 96)
    led = led_candidates(served, prompt, "twist", "children", sentences, request, seed=9)
    assert len(led) == len(sentences) and all(c.score < 0 for c in led)
    response = asyncio.run(latent_generator.generate(request))
    assert not response.fallback
    assert all(len(c.latent or []) == tools.latent_dim for c in response.candidates)
    vector = tools.encoder.encode([TURN])[0]
    continuation = GenerateRequest.model_validate(
        {"context": STORY, "params": {"n": 3, "seed": 2, "max_tokens": 20}}
    )
    assert tools.style_led(styled(continuation, vector), served, 0)


def test_with_another_tokenizer_latent_and_discriminator_tools_step_aside(
    tiny_transformer,
    judge_checkpoint,  # noqa: F811
    tools,  # noqa: F811
    monkeypatch,
):
    registry = tiny_registry(tiny_transformer, judge_checkpoint)
    served = registry.get("tiny")
    monkeypatch.setattr(tools, "_compatible", {})
    monkeypatch.setattr(served.tokenizer, "to_json", lambda: "{}")
    generator = InProcessGenerator(registry, latent=tools)
    assert not tools.plans_twists_for(served)
    answer = asyncio.run(generator.generate(twist()))
    assert answer.candidates and all(c.latent is None for c in answer.candidates)
    judged = GenerateRequest.model_validate(body(rerank="discriminator"))
    with pytest.raises(NoDiscriminator, match="same tokenizer"):
        asyncio.run(generator.generate(judged))


def test_the_discriminator_of_an_lstm_checkpoint_ranks_the_transformer(
    tiny_transformer,
    judge_checkpoint,  # noqa: F811
):
    generator = InProcessGenerator(tiny_registry(tiny_transformer, judge_checkpoint))
    judged = GenerateRequest.model_validate(body(seed=4, n=3, rerank="discriminator"))
    response = asyncio.run(generator.generate(judged))
    assert response.model == "tiny"
    scores = [c.score for c in response.candidates]
    assert scores == sorted(scores, reverse=True)
    want = expected_scores(judge_checkpoint, [c.text for c in response.candidates])
    assert scores == pytest.approx(want, abs=2e-4)


def test_models_are_chosen_by_family_name_beside_their_ids(tiny_checkpoint, tiny_transformer):
    from generators.errors import UnknownModel
    from generators.inference.registry import ModelRegistry

    registry = ModelRegistry("cpu")
    lstm = registry.load(tiny_checkpoint, model_id="default")
    transformer = registry.load(tiny_transformer, model_id="story-transformer")
    assert registry.get("transformer") is transformer
    assert registry.get("lstm") is lstm
    assert registry.get("story-transformer") is transformer
    assert registry.get(None) is lstm
    with pytest.raises(UnknownModel, match="loaded: default, story-transformer"):
        registry.get("vae")
