"""The continuous cache that scoring mixes into a model's next-token probabilities."""

from __future__ import annotations

import math

import pytest
import torch

from generators.inference.continuation_scoring import (
    continuation_logprobs,
    logprobs_after,
    logprobs_after_many,
)
from generators.inference.registry import ModelRegistry
from generators.models.continuous_cache import ContinuousCache, cache_of, mixed_logprobs

STORY = "Zorbin the troll lived under the bridge. Zorbin guarded the bridge from the goats."


def test_the_cache_recalls_the_tokens_that_followed_similar_moments():
    cache = ContinuousCache(weight=0.5, sharpness=2.0)
    hidden = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.6, 0.8]])
    following = torch.tensor([7, 8, 7, 9])
    model_logprobs = torch.log(torch.tensor([0.1, 0.2]))
    got = mixed_logprobs(cache, model_logprobs, hidden, following, start=2)
    # Position 2 recalls positions 0 (same direction, token 7) and 1 (orthogonal, token 8).
    recall_2 = math.exp(2.0) / (math.exp(2.0) + math.exp(0.0))
    # Position 3 recalls 0 and 2 (cosine 0.6, token 7) and 1 (cosine 0.8, token 8); it asks
    # for token 9, which no earlier moment was followed by.
    assert got[0].item() == pytest.approx(math.log(0.5 * 0.1 + 0.5 * recall_2), abs=1e-6)
    assert got[1].item() == pytest.approx(math.log(0.5 * 0.2), abs=1e-6)


def test_with_nothing_to_recall_or_no_weight_the_model_stands_alone():
    hidden = torch.randn(5, 4)
    following = torch.tensor([1, 2, 1, 2, 1])
    model_logprobs = torch.log(torch.tensor([0.3, 0.2, 0.1, 0.4, 0.5]))
    alone = mixed_logprobs(ContinuousCache(0.4, 10.0), model_logprobs, hidden, following, 0)
    assert alone[0].item() == pytest.approx(model_logprobs[0].item(), abs=1e-6)
    unweighted = mixed_logprobs(ContinuousCache(0.0, 10.0), model_logprobs, hidden, following, 0)
    assert torch.allclose(unweighted, model_logprobs, atol=1e-6)


class RunOnly:
    """A model with `run` alone (a brought folder): nothing to key the cache on."""

    continuous_cache = ContinuousCache(0.5, 5.0)

    def run(self, ids, state=None, last_only=False):
        raise NotImplementedError


def test_a_model_without_hidden_states_is_read_without_a_cache():
    assert cache_of(RunOnly()) is None


@pytest.mark.parametrize("family", ["lstm", "transformer"])
def test_both_readers_recall_the_story_alike(family, tiny_checkpoint, tiny_transformer):
    """The full reading (the benchmark's bits/char) and the key/value-cache reading (the
    rerankers, retrieval) mix the same recall in; a story's own rare name, said again, is
    likelier with the cache than without it."""
    served = ModelRegistry("cpu").load(tiny_checkpoint if family == "lstm" else tiny_transformer)
    model, tok = served.model, served.tokenizer
    assert cache_of(model) is not None
    prompt = [tok.eos_id, *tok.encode(STORY)]
    conts = [tok.encode(" Zorbin guarded the bridge."), tok.encode(" The sun was hot.")]
    shared = logprobs_after(model, prompt, conts)
    whole = continuation_logprobs(model, [(prompt, c) for c in conts], tok.pad_id)
    many = logprobs_after_many(model, [(prompt[:5], conts), (prompt, conts)], max_rows=3)[1]
    for a, b, c in zip(shared, whole, many, strict=True):
        assert a.logprob == pytest.approx(b.logprob, abs=1e-3)
        assert a.logprob == pytest.approx(c.logprob, abs=1e-3)
    model.continuous_cache = None
    try:
        plain = logprobs_after(model, prompt, conts)
    finally:
        del model.continuous_cache
    assert shared[0].logprob > plain[0].logprob + 0.5
    assert shared[0].logprob != pytest.approx(plain[0].logprob, abs=1e-3)
    assert shared[1].logprob != pytest.approx(plain[1].logprob, abs=1e-3)
