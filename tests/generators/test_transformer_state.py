"""The transformer's key/value cache as a serving state: decoding from the cache gives the logits
of a full reading, and the state operations the sampler and the service's batch use (select,
cat, expand) keep every row what it was, for the transformer and the LSTM alike."""

from __future__ import annotations

import asyncio

import pytest
import torch
from test_service_support import body, tiny_registry

from generators.checkpoint import load_checkpoint
from generators.inference import pipeline
from generators.inference.continuation_scoring import continuation_logprobs, logprobs_after
from generators.inference.sampling import SamplingSettings, StopRule, fit_to_context, sample
from generators.models.protocol import LanguageModel
from generators.schemas import GenerateRequest
from generators.service.batch import LiveBatch
from generators.service.jobs import Job

torch.set_num_threads(1)
CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def transformer(tiny_transformer):
    return load_checkpoint(tiny_transformer).model.float().eval()


@pytest.fixture(scope="module", params=["lstm", "transformer"])
def model(request, tiny_checkpoint, tiny_transformer):
    path = tiny_checkpoint if request.param == "lstm" else tiny_transformer
    return load_checkpoint(path).model.float().eval()


def random_ids(rows: int, length: int, seed: int, vocab: int = 250) -> torch.Tensor:
    return torch.randint(5, vocab, (rows, length), generator=torch.Generator().manual_seed(seed))


@torch.no_grad()
def test_the_cache_gives_the_logits_of_a_full_reading(transformer):
    ids = random_ids(1, 40, seed=0)
    full, _ = transformer.run(ids)
    logits, state = transformer.run(ids[:, :12])
    steps = [logits]
    for t in range(12, 40):
        out, state = transformer.run(ids[:, t : t + 1], state)
        steps.append(out)
    torch.testing.assert_close(torch.cat(steps, dim=1), full, atol=1e-4, rtol=1e-4)


@torch.no_grad()
def test_rows_of_different_lengths_decode_together_as_alone(transformer):
    """Prompts read apart and joined (the cache left-padded) then decoded step by step: each
    row's logits are those of its own full reading, whatever its neighbours' lengths."""
    prompts = [random_ids(1, length, seed=length) for length in (5, 17, 11)]
    steps = random_ids(3, 6, seed=99)
    states = [transformer.run(p)[1] for p in prompts]
    state = transformer.cat_states(states)
    together = []
    for t in range(steps.size(1)):
        out, state = transformer.run(steps[:, t : t + 1], state)
        together.append(out)
    together = torch.cat(together, dim=1)
    for row, prompt in enumerate(prompts):
        full, _ = transformer.run(torch.cat([prompt, steps[row : row + 1]], dim=1))
        torch.testing.assert_close(together[row], full[0, prompt.size(1) :], atol=1e-4, rtol=1e-4)


def test_both_models_provide_the_state_operations(model):
    assert isinstance(model, LanguageModel)


@torch.no_grad()
def test_select_cat_and_expand_keep_each_row(model):
    """Whatever the state is, a row moved by select, cat or expand reads on as it would have."""
    a = model.run(random_ids(2, 7, seed=1))[1]
    b = model.run(random_ids(3, 13, seed=2))[1]
    token = random_ids(1, 1, seed=3)

    def next_logits(state, rows: int) -> torch.Tensor:
        return model.run(token.expand(rows, 1), state)[0][:, -1]

    alone = torch.cat([next_logits(a, 2), next_logits(b, 3)])
    joined = model.cat_states([a, b])
    torch.testing.assert_close(next_logits(joined, 5), alone, atol=1e-4, rtol=1e-4)
    picked = model.select_state(joined, torch.tensor([4, 0, 0, 2]))
    torch.testing.assert_close(next_logits(picked, 4), alone[[4, 0, 0, 2]], atol=1e-4, rtol=1e-4)
    expanded = model.expand_state(a, 3)
    torch.testing.assert_close(
        next_logits(expanded, 6), alone[[0, 0, 0, 1, 1, 1]], atol=1e-4, rtol=1e-4
    )
    # Nothing was changed in place: the first state still reads the same.
    torch.testing.assert_close(next_logits(a, 2), alone[:2], atol=1e-6, rtol=1e-6)


@torch.no_grad()
def test_candidates_sampled_together_write_what_each_seed_writes_alone(tiny_transformer):
    served = tiny_registry(tiny_transformer).get(None)
    prompt = served.tokenizer.encode("Once upon a time, there was a little cat named Tom.")
    settings = SamplingSettings(max_tokens=20, min_tokens=20)
    together = sample(served.model, served.tables, prompt, settings, StopRule(None), 3, seed=40)
    for index, row in enumerate(together):
        (alone,) = sample(
            served.model, served.tables, prompt, settings, StopRule(None), 1, seed=40 + index
        )
        assert row.tokens == alone.tokens and len(row.tokens) == 20
    assert len({tuple(row.tokens) for row in together}) > 1


def test_continuations_after_one_prompt_score_as_read_whole(transformer):
    prompt = random_ids(1, 9, seed=5)[0].tolist()
    continuations = [random_ids(1, n, seed=10 + n)[0].tolist() for n in (4, 1, 7)] + [[]]
    shared = logprobs_after(transformer, prompt, continuations)
    whole = continuation_logprobs(transformer, [(prompt, c) for c in continuations], pad_id=0)
    for got, want in zip(shared, whole, strict=True):
        assert got.tokens == want.tokens
        assert got.logprob == pytest.approx(want.logprob, abs=1e-3)


def job_for(served, loop, turn: str, seed: int, tokens: int, n: int) -> Job:
    request = GenerateRequest.model_validate(body(seed=seed, n=n, tokens=tokens))
    first = request.context.turns[0].model_copy(update={"text": turn})
    request.context.turns[0] = first
    budget = served.prompt_budget(384, tokens)
    return Job(
        pipeline.prepare(request, served.tokenizer, budget), served, loop, loop.create_future()
    )


def finish(live: LiveBatch) -> None:
    while len(live):
        live.step()


def test_rows_joining_and_leaving_a_live_batch_write_what_they_write_alone(tiny_transformer):
    """Jobs join a batch mid-way (their caches shorter or longer than those already there) and
    leave as they finish; each writes the tokens it writes in a batch of its own."""
    served = tiny_registry(tiny_transformer).get(None)
    loop = asyncio.new_event_loop()
    specs = [
        ("Tom ran to the park.", 1, 18, 2),
        ("Mia saw a big red kite in the park and smiled at her little dog.", 2, 6, 1),
        ("Sue sang.", 3, 12, 2),
    ]
    try:
        jobs = [job_for(served, loop, *spec) for spec in specs]
        live = LiveBatch(served, CPU)
        live.admit(jobs[:1])
        for _ in range(3):
            live.step()
        live.admit(jobs[1:2])
        widths = []
        for _ in range(2):
            live.step()
            widths.append(len(live))
        live.admit(jobs[2:])
        widths.append(len(live))
        finish(live)
        assert widths == [3, 3, 5]
        for job, spec in zip(jobs, specs, strict=True):
            solo = job_for(served, loop, *spec)
            alone = LiveBatch(served, CPU)
            alone.admit([solo])
            finish(alone)
            assert [s.tokens for s in job.sequences] == [s.tokens for s in solo.sequences]
            assert all(len(s.tokens) == spec[2] for s in job.sequences)
    finally:
        loop.close()


def test_prompts_too_long_for_the_context_lose_their_oldest_tokens(model):
    """A prompt over its budget (a long premise's control tokens) still fits: the oldest tokens
    go first, at most half the context, then max_tokens is cut; a model without a limit keeps
    both."""
    settings = SamplingSettings(max_tokens=60, min_tokens=60)
    prompt = list(range(5, 155))
    fitted, fitted_settings = fit_to_context(model, prompt, settings)
    if model.family == "lstm":
        assert fitted is prompt and fitted_settings is settings
        return
    limit = model.max_positions
    assert fitted == prompt[-(limit - 60) :] and fitted_settings == settings
    fitted, fitted_settings = fit_to_context(model, prompt, SamplingSettings(max_tokens=150))
    assert fitted == prompt[-(limit // 2) :]
    assert fitted_settings.max_tokens == limit - limit // 2 and fitted_settings.min_tokens == 8
