"""Style vectors from the sentence VAE, text statistics, and the style reranker."""

from __future__ import annotations

import math

import pytest
import torch
from vae_testing import tiny_vae_run

from generators.inference.style import (
    STYLE_WEIGHT,
    StyleEncoder,
    style_lean,
    style_reranker,
    text_stats,
)
from generators.schemas import Candidate, GenerateRequest, GenerationParams, StoryContext
from generators.text.sentences import split_sentences

TURN = (
    "Lily loved to play with a red ball in the park. "
    '"Can I play with you?" asked Tom. The night had fallen upon the old castle.'
)


@pytest.fixture(scope="session")
def encoder(tmp_path_factory, tiny_corpus_dir, tiny_run) -> StyleEncoder:
    run = tiny_vae_run(
        "defended", tmp_path_factory.mktemp("vae"), tiny_corpus_dir, tiny_run / "tokenizer.json"
    )
    return StyleEncoder(run / "best")


def test_style_vectors_are_deterministic(encoder, tmp_path):
    first = encoder.encode([TURN, "Mia saw a big kite near the lake."])
    again = StyleEncoder(encoder.checkpoint.path).encode(
        [TURN, "Mia saw a big kite near the lake."]
    )
    assert first == again
    assert len(first) == 2 and all(len(v) == encoder.latent_dim for v in first)


def test_a_turn_vector_is_the_mean_of_its_sentence_vectors(encoder):
    sentences = split_sentences(TURN)
    assert len(sentences) == 3
    singles = torch.tensor(encoder.encode(sentences))
    (turn,) = encoder.encode([TURN])
    torch.testing.assert_close(torch.tensor(turn), singles.mean(dim=0))


def test_empty_text_is_refused(encoder):
    with pytest.raises(ValueError):
        encoder.encode(["   "])


def test_text_stats():
    text = 'Tom ran. "Run, Tom, run!" cried Mia loudly.'
    stats = text_stats(text)
    assert stats["sentences"] == 2
    assert stats["words"] == 8
    assert stats["avg_sentence_words"] == 4.0
    assert stats["quoted_characters"] == len("Run, Tom, run!")
    assert stats["dialogue_share"] == pytest.approx(14 / len(text))
    assert stats["type_token_ratio"] == pytest.approx(6 / 8)  # "tom" and "run" repeat
    assert text_stats("")["type_token_ratio"] == 0.0


def request_with(style: list[float] | None) -> GenerateRequest:
    return GenerateRequest(
        context=StoryContext(style_vector=style), params=GenerationParams(rerank="style")
    )


def test_style_lean_is_the_projection_on_the_style_direction():
    assert style_lean([3.0, 4.0], [2.0, 0.0]) == pytest.approx(3.0)
    assert style_lean([3.0, 4.0], [0.0, -5.0]) == pytest.approx(-4.0)
    assert style_lean([3.0, 4.0], [0.0, 0.0]) == 0.0


def test_style_reranker_prefers_the_candidate_leaning_towards_the_style(encoder):
    rerank = style_reranker(encoder)
    dim = encoder.latent_dim
    target = [0.3] * dim
    near = Candidate(text="near", score=-3.0, latent=[0.9] * dim)
    far = Candidate(text="far", score=-3.0, latent=[-1.0] * dim)
    # A bland candidate at the prior's mode is nearest the target but does not lean its way.
    bland = Candidate(text="bland", score=-3.0, latent=[0.0] * dim)
    scores = rerank(request_with(target), [far, near, bland])
    assert scores[1] > scores[2] > scores[0]
    assert math.dist(bland.latent, target) < math.dist(near.latent, target)
    assert scores[1] == pytest.approx(-3.0 + STYLE_WEIGHT * 0.9 * math.sqrt(dim))


def test_fluency_still_counts_in_the_style_score(encoder):
    rerank = style_reranker(encoder)
    dim = encoder.latent_dim
    target = [1.0] * dim
    fluent = Candidate(text="a", score=-2.0, latent=[0.1] * dim)
    garbled = Candidate(text="b", score=-9.0, latent=[0.2] * dim)
    scores = rerank(request_with(target), [fluent, garbled])
    assert scores[0] > scores[1]


def test_style_reranker_fills_latents_from_text(encoder):
    rerank = style_reranker(encoder)
    texts = ["The night had fallen upon the old castle.", "Tom played with a red kite."]
    (target,) = encoder.encode([texts[1]])
    candidates = [Candidate(text=t, score=-3.0) for t in texts]
    scores = rerank(request_with(target), candidates)
    assert candidates[1].latent == pytest.approx(target, abs=1e-4)
    assert candidates[0].latent is not None
    norm = math.sqrt(sum(v * v for v in target))
    assert scores[1] == pytest.approx(-3.0 + STYLE_WEIGHT * norm, abs=1e-3)
    assert scores[0] == pytest.approx(
        -3.0 + STYLE_WEIGHT * style_lean(candidates[0].latent, target), abs=1e-3
    )


def test_without_a_style_vector_scores_are_unchanged(encoder):
    candidates = [Candidate(text="x", score=-2.5), Candidate(text="y", score=-1.5)]
    assert style_reranker(encoder)(request_with(None), candidates) == [-2.5, -1.5]
