"""`rerank="discriminator"` in serving: through the service over HTTP and the in-process
generator, with the model's own discriminator or a loaded one that reads the same tokenizer,
and a clear refusal when there is none."""

from __future__ import annotations

import asyncio

import httpx
import pytest
import torch
from test_service_support import body, running_service, tiny_registry

from generators.checkpoint import load_checkpoint, save_checkpoint
from generators.client import HttpGenerator, InProcessGenerator
from generators.errors import NoDiscriminator
from generators.inference.seqgan_rerank import score_texts
from generators.models.seqgan import Discriminator, DiscriminatorConfig
from generators.schemas import GenerateRequest


@pytest.fixture(scope="module")
def judge_checkpoint(tiny_checkpoint, tmp_path_factory):
    """The tiny model saved again with a (randomly initialised) discriminator beside it, as a
    SeqGAN run exports: same tokenizer as the tiny model."""
    loaded = load_checkpoint(tiny_checkpoint)
    torch.manual_seed(0)
    config = DiscriminatorConfig(
        vocab_size=loaded.tokenizer.vocab_size,
        seq_len=32,
        embed_dim=8,
        filter_sizes=[1, 2, 3],
        num_filters=[4, 4, 4],
        end_id=loaded.tokenizer.eos_id,
    )
    discriminator = Discriminator(config).eval()
    folder = tmp_path_factory.mktemp("judge") / "judge"
    save_checkpoint(
        folder,
        loaded.model,
        family="lstm",
        model_config=loaded.config["model"],
        tokenizer=loaded.tokenizer,
        card="# judge\n",
        extra_weights={"discriminator": ("discriminator", config.to_dict(), discriminator)},
    )
    return folder


def expected_scores(judge_checkpoint, texts: list[str]) -> list[float]:
    """The judge's own scores, which must tell the candidates apart: otherwise a reranker that
    ignored the discriminator (a constant score) would match them within the tolerance."""
    loaded = load_checkpoint(judge_checkpoint)
    scores = score_texts(loaded.extras["discriminator"].float(), loaded.tokenizer, texts)
    assert len(set(texts)) > 1 and max(scores) - min(scores) > 5e-3, scores
    return scores


def test_the_service_ranks_by_a_loaded_discriminator(tiny_checkpoint, judge_checkpoint):
    registry = tiny_registry(tiny_checkpoint, judge_checkpoint)
    with (
        running_service(tiny_checkpoint, registry=registry) as live,
        httpx.Client(base_url=live.url, timeout=60) as http,
    ):
        for model in ("tiny", "tiny-1"):  # the plain model borrows tiny-1's discriminator
            request = body(seed=3, n=4, rerank="discriminator")
            request["model"] = model
            response = http.post("/v1/generate", json=request)
            assert response.status_code == 200, response.text
            candidates = response.json()["candidates"]
            scores = [c["score"] for c in candidates]
            assert scores == sorted(scores, reverse=True)
            want = expected_scores(judge_checkpoint, [c["text"] for c in candidates])
            assert scores == pytest.approx(want, abs=2e-4)


def test_the_service_refuses_the_discriminator_when_none_is_loaded(tiny_checkpoint):
    with (
        running_service(tiny_checkpoint) as live,
        httpx.Client(base_url=live.url, timeout=60) as http,
    ):
        response = http.post("/v1/generate", json=body(rerank="discriminator"))
        assert response.status_code == 422
        assert response.json()["error"] == "no_discriminator"
        assert "SeqGAN" in response.json()["detail"]
        assert http.post("/v1/generate", json=body()).status_code == 200
        request = GenerateRequest.model_validate(body(rerank="discriminator"))

        async def ask() -> None:
            client = HttpGenerator([live.url], timeout_s=30)
            try:
                await client.generate(request)
            finally:
                await client.aclose()

        with pytest.raises(NoDiscriminator, match="SeqGAN"):
            asyncio.run(ask())


def test_in_process_generation_ranks_by_the_discriminator(tiny_checkpoint, judge_checkpoint):
    generator = InProcessGenerator(tiny_registry(tiny_checkpoint, judge_checkpoint))
    request = GenerateRequest.model_validate(body(seed=4, n=3, rerank="discriminator"))
    response = asyncio.run(generator.generate(request))
    scores = [c.score for c in response.candidates]
    assert scores == sorted(scores, reverse=True)
    want = expected_scores(judge_checkpoint, [c.text for c in response.candidates])
    assert scores == pytest.approx(want, abs=2e-4)


def test_in_process_generation_refuses_before_generating(tiny_checkpoint):
    generator = InProcessGenerator(tiny_registry(tiny_checkpoint))
    request = GenerateRequest.model_validate(body(rerank="discriminator"))
    with pytest.raises(NoDiscriminator, match="SeqGAN"):
        asyncio.run(generator.generate(request))
