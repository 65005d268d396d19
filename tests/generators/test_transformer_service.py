"""The transformer behind the real service on loopback: the LSTM's API contract and continuous
batching tests (imported, so pytest runs them with this module's fixtures: a tiny transformer as
the default model, beside an LSTM), the family listed, and a request too long for its context
refused."""

from __future__ import annotations

import asyncio

import httpx
import pytest
import test_service_batching as lstm_batching
import torch
from test_service_api import (  # noqa: F401
    test_a_request_picks_its_model,
    test_a_seed_gives_the_same_text_twice,
    test_context_over_the_limit_is_413,
    test_generate_answers_the_acceptance_request,
    test_metrics_count_requests_tokens_batches_and_verdicts,
    test_out_of_range_params_are_422,
    test_unknown_model_is_404,
)
from test_service_batching import (  # noqa: F401
    post_all,
    test_finished_rows_leave_the_batch_at_once,
    test_rewind_puts_a_sequence_back_exactly,
    texts,
)
from test_service_support import STORY, body, running_service, tiny_registry

from generators.inference import pipeline
from generators.schemas import GenerateRequest
from generators.service.batch import LiveBatch
from generators.service.jobs import Job


@pytest.fixture(scope="module")
def server(tiny_transformer, tiny_checkpoint):
    registry = tiny_registry(tiny_transformer, tiny_checkpoint)
    with running_service(tiny_transformer, registry=registry, max_context_chars=2000) as live:
        yield live


@pytest.fixture
def http(server):
    with httpx.Client(base_url=server.url, timeout=60) as client:
        yield client


@pytest.fixture
def served(tiny_transformer):
    return tiny_registry(tiny_transformer).get(None)


@pytest.fixture
def make_job(served):
    loop = asyncio.new_event_loop()

    def make(turn: str | None = None, **params) -> Job:
        request = GenerateRequest.model_validate(body(**params))
        if turn is not None:
            first = request.context.turns[0].model_copy(update={"text": turn})
            request.context.turns[0] = first
        budget = served.prompt_budget(384, request.params.max_tokens)
        prepared = pipeline.prepare(request, served.tokenizer, budget)
        return Job(prepared, served, loop, loop.create_future())

    yield make
    loop.close()


def test_models_list_each_family(http):
    models = [m["talewright"] for m in http.get("/v1/models").json()["data"]]
    assert [(m["id"], m["family"], m["default"]) for m in models] == [
        ("tiny", "transformer", True),
        ("tiny-1", "lstm", False),
    ]


def test_a_max_tokens_beyond_the_context_is_refused_with_the_limit(http):
    response = http.post("/v1/generate", json=body(tokens=140))
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "invalid_request"
    assert "ask for at most 128" in response.json()["detail"]
    lstm = http.post("/v1/generate", json={**body(tokens=140, exact=False), "model": "tiny-1"})
    assert lstm.status_code == 200


def test_prompts_read_together_match_prompts_read_alone(served, make_job):
    """Prompts of three lengths read in one admission (calls shared up to each prompt's end,
    the caches of the shorter ones left-padded) give each row the logits and text of its own."""
    turns = [
        "Tom ran.",
        "Mia saw a big red kite in the park and smiled at her dog.",
        "Sue sang a happy song to the cat.",
    ]
    jobs = [make_job(turn=t, n=2, tokens=10, seed=i) for i, t in enumerate(turns)]
    assert len({len(job.prepared.prompt.ids) for job in jobs}) == 3
    together = LiveBatch(served, torch.device("cpu"))
    together.admit(jobs)
    logits, owners = together.logits, list(together.jobs)
    assert logits is not None
    while len(together):
        together.step()
    for i, job in enumerate(jobs):
        solo = make_job(turn=turns[i], n=2, tokens=10, seed=i)
        alone = LiveBatch(served, torch.device("cpu"))
        alone.admit([solo])
        rows = [k for k, owner in enumerate(owners) if owner is job]
        assert len(rows) == 2
        torch.testing.assert_close(logits[rows], alone.logits, atol=1e-4, rtol=1e-4)
        while len(alone):
            alone.step()
        assert [s.tokens for s in job.sequences] == [s.tokens for s in solo.sequences]


def test_a_seed_gives_the_same_text_alone_and_in_a_busy_batch(tiny_transformer):
    lstm_batching.test_a_seed_gives_the_same_text_alone_and_in_a_busy_batch(tiny_transformer)


def test_a_failing_request_spares_its_batch_mates(tiny_transformer, monkeypatch):
    lstm_batching.test_a_failing_request_spares_its_batch_mates(tiny_transformer, monkeypatch)


def test_blocked_candidates_regenerate_then_fall_back(tiny_transformer):
    lstm_batching.test_blocked_candidates_regenerate_then_fall_back(tiny_transformer)


def test_bfloat16_steps_serve_the_same_contract(tiny_transformer):
    lstm_batching.test_bfloat16_steps_serve_the_same_contract(tiny_transformer)


def test_a_long_story_is_cut_to_the_context_and_answered(tiny_transformer):
    story = {**STORY, "turns": [{"text": f"Lily ran to the park, day {i}."} for i in range(40)]}
    request = {"context": story, "params": {"max_tokens": 90, "min_tokens": 90, "n": 2}}
    with running_service(tiny_transformer, registry=tiny_registry(tiny_transformer)) as live:
        [answer] = asyncio.run(post_all(live.url, [request]))
    assert answer.status_code == 200, answer.text
    assert all(c["tokens"] == 90 for c in answer.json()["candidates"]) and texts(answer)
