"""Continuous batching: rows match solo runs, seeds survive busy batches, finished rows leave,
one failing request spares its batch-mates, blocked candidates regenerate, batching can be off."""

from __future__ import annotations

import asyncio

import httpx
import pytest
import torch
from test_service_support import SlowModel, body, metric, running_service, tiny_registry

from generators.checkpoint import load_checkpoint
from generators.inference import pipeline
from generators.inference.sampling import decode_step
from generators.schemas import GenerateRequest, ModerationVerdict
from generators.service import batch as batch_module
from generators.service import create_app
from generators.service.batch import LiveBatch, rewind
from generators.service.jobs import Job
from generators.service.loading import PrecisionUnsupported, bf16_lstm_works, serving_autocast
from generators.service.settings import ServiceSection

POISON_TEMPERATURE = 1.234


def other_request(i: int) -> dict:
    """Batch-mates that differ in prompt, genre, length and candidates."""
    story = {
        "genre": "horror_gothic",
        "turns": [{"text": f"The candle {i} went out in the crypt."}],
    }
    params = {"max_tokens": 20 + 7 * i, "min_tokens": 10, "n": 1 + i % 3, "seed": 100 + i}
    return {"kind": "continue", "context": story, "params": params}


async def post_all(url: str, bodies: list[dict]) -> list[httpx.Response]:
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        return list(await asyncio.gather(*(client.post("/v1/generate", json=b) for b in bodies)))


def texts(response: httpx.Response) -> list[str]:
    return [c["text"] for c in response.json()["candidates"]]


def test_a_batched_step_gives_each_row_its_solo_logits(tiny_checkpoint):
    model = load_checkpoint(tiny_checkpoint).model
    prompts = torch.randint(5, 200, (6, 9), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        _, state = model.run(prompts)
        tokens = torch.randint(5, 200, (6, 1), generator=torch.Generator().manual_seed(1))
        together, _ = model.run(tokens, state)
        for row in range(6):
            alone, _ = model.run(tokens[row : row + 1], (state[0][:, [row]], state[1][:, [row]]))
            torch.testing.assert_close(alone[0], together[row], atol=1e-5, rtol=1e-5)


@pytest.fixture
def served(tiny_checkpoint):
    return tiny_registry(tiny_checkpoint).get(None)


@pytest.fixture
def make_job(served):
    loop = asyncio.new_event_loop()

    def make(turn: str | None = None, **params) -> Job:
        request = GenerateRequest.model_validate(body(**params))
        if turn is not None:
            first = request.context.turns[0].model_copy(update={"text": turn})
            request.context.turns[0] = first
        prepared = pipeline.prepare(request, served.tokenizer, 384)
        return Job(prepared, served, loop, loop.create_future())

    yield make
    loop.close()


def test_finished_rows_leave_the_batch_at_once(served, make_job):
    short, long = make_job(tokens=4, n=2), make_job(tokens=9, n=1)
    live = LiveBatch(served, torch.device("cpu"))
    live.admit([short, long])
    sizes, finished = [], []
    while len(live):
        sizes.append(len(live))
        finished.append(live.step())
    assert sizes == [3, 3, 3, 3, 1, 1, 1, 1, 1]
    assert finished[3] == {short} and finished[8] == {long}
    assert [len(s.tokens) for s in short.sequences] == [4, 4]


def test_prompts_read_together_match_prompts_read_alone(served, make_job):
    turns = [
        "Tom ran.",
        "Mia saw a big red kite in the park and smiled at her dog.",
        "Sue sang a happy song to the cat.",
    ]
    jobs = [make_job(turn=t, n=2) for t in turns]
    assert len({len(job.prepared.prompt.ids) for job in jobs}) == 3
    together = LiveBatch(served, torch.device("cpu"))
    together.admit(jobs)
    for job in jobs:
        alone = LiveBatch(served, torch.device("cpu"))
        alone.admit([make_job(turn=job.prepared.request.context.turns[0].text, n=2)])
        rows = [i for i, owner in enumerate(together.jobs) if owner is job]
        assert len(rows) == 2
        torch.testing.assert_close(together.logits[rows], alone.logits, atol=1e-5, rtol=1e-5)
        for mine, solo in zip(together.state, alone.state, strict=True):
            torch.testing.assert_close(mine[:, rows], solo, atol=1e-5, rtol=1e-5)


def test_rewind_puts_a_sequence_back_exactly(served, make_job):
    live = LiveBatch(served, torch.device("cpu"))
    live.admit([make_job(tokens=12)])
    for _ in range(3):
        live.step()
    [sequence] = live.sequences
    tokens, logprob, random_state = (
        list(sequence.tokens),
        sequence.logprob,
        sequence.generator.get_state(),
    )
    decode_step(served.model, live.sequences, live.logits, served.tables)
    rewind(sequence, len(tokens), logprob)
    assert sequence.tokens == tokens and sequence.logprob == logprob and not sequence.finished
    assert torch.equal(sequence.generator.get_state(), random_state)


def test_a_seed_gives_the_same_text_alone_and_in_a_busy_batch(tiny_checkpoint):
    registry = tiny_registry(tiny_checkpoint, wrap=lambda m: SlowModel(m, 0.005))
    with running_service(tiny_checkpoint, registry=registry) as server:
        target = body(seed=42, n=2, tokens=25, exact=False)
        [alone] = asyncio.run(post_all(server.url, [target]))
        busy = asyncio.run(post_all(server.url, [other_request(i) for i in range(6)] + [target]))
        stats = httpx.get(f"{server.url}/metrics").text
    assert all(r.status_code == 200 for r in busy)
    assert texts(busy[-1]) == texts(alone)
    wide_steps = metric(stats, "talewright_batch_size_count") - metric(
        stats, "talewright_batch_size_bucket", le="4.0"
    )
    assert wide_steps > 0, "the batch never held more than 4 rows: nothing was tested"


def test_a_failing_request_spares_its_batch_mates(tiny_checkpoint, monkeypatch):
    failed_with_mates = []

    def fragile_decode_step(model, sequences, logits, tables):
        if any(s.settings.temperature == POISON_TEMPERATURE for s in sequences):
            failed_with_mates.append(len(sequences))
            raise RuntimeError("poisoned request")
        return decode_step(model, sequences, logits, tables)

    registry = tiny_registry(tiny_checkpoint, wrap=lambda m: SlowModel(m, 0.005))
    mates = [other_request(i) for i in range(4)]
    poisoned = body(seed=3, tokens=30, temperature=POISON_TEMPERATURE)
    with running_service(tiny_checkpoint, registry=registry) as server:
        alone = [asyncio.run(post_all(server.url, [m]))[0] for m in mates]
        monkeypatch.setattr(batch_module, "decode_step", fragile_decode_step)
        together = asyncio.run(post_all(server.url, [*mates[:2], poisoned, *mates[2:]]))
        after = httpx.post(f"{server.url}/v1/generate", json=body(), timeout=30)
    bad = together.pop(2)
    assert bad.status_code == 500 and bad.json()["error"] == "generation_failed"
    assert "poisoned request" in bad.json()["detail"]
    assert [r.status_code for r in together] == [200] * 4
    assert [texts(r) for r in together] == [texts(r) for r in alone]
    assert max(failed_with_mates) > 1, "the poisoned request never shared a batch"
    assert after.status_code == 200


class BlockEverything:
    """A moderator that refuses every generated candidate."""

    def __init__(self):
        self.batches = 0

    def check(self, text, level="teen"):
        return ModerationVerdict(level=level)

    def check_many(self, texts, level="teen"):
        self.batches += 1
        return [ModerationVerdict(verdict="block", categories=["test"], level=level) for _ in texts]


def test_blocked_candidates_regenerate_then_fall_back(tiny_checkpoint):
    moderator = BlockEverything()
    with running_service(tiny_checkpoint, moderator=moderator, max_regenerations=2) as server:
        response = httpx.post(f"{server.url}/v1/generate", json=body(n=2), timeout=30)
        stats = httpx.get(f"{server.url}/metrics").text
    data = response.json()
    assert response.status_code == 200 and data["fallback"] is True
    assert data["text"] == pipeline.FALLBACK_LINES["continue"]
    assert moderator.batches == 3
    assert metric(stats, "talewright_regenerations_total") == 2
    assert metric(stats, "talewright_fallbacks_total") == 1
    assert metric(
        stats, "talewright_moderation_verdicts_total", source="generated", verdict="block"
    )


@pytest.mark.parametrize("batching", [False, True])
def test_batching_off_runs_one_request_at_a_time(tiny_checkpoint, batching):
    requests = [body(seed=i, n=2, tokens=15) for i in range(5)]
    registry = tiny_registry(tiny_checkpoint, wrap=lambda m: SlowModel(m, 0.005))
    with running_service(tiny_checkpoint, registry=registry, batching=batching) as server:
        responses = asyncio.run(post_all(server.url, requests))
        stats = httpx.get(f"{server.url}/metrics").text
    assert [r.status_code for r in responses] == [200] * 5
    steps = metric(stats, "talewright_batch_size_count")
    at_most_two = metric(stats, "talewright_batch_size_bucket", le="2.0")
    assert (at_most_two == steps) is not batching


def test_bfloat16_steps_serve_the_same_contract(tiny_checkpoint):
    """`precision = "bf16"` runs the worker's steps under bfloat16 autocast on a CPU that can;
    on one that cannot (AVX2 only: oneDNN has no bfloat16 LSTM there) the service refuses to
    start and says which setting to change, instead of failing every request."""
    cpu = torch.device("cpu")
    assert serving_autocast("fp32", cpu) is None
    assert serving_autocast("bf16", torch.device("cuda")) is None  # float16 weights there
    if not bf16_lstm_works():
        with pytest.raises(PrecisionUnsupported, match='precision = "fp32" or "auto"'):
            serving_autocast("bf16", cpu)
        app = create_app(ServiceSection(precision="bf16", vae_checkpoint=None, threads=1))
        starting = app.router.lifespan_context(app)
        with pytest.raises(PrecisionUnsupported, match="not supported on this CPU"):
            asyncio.run(starting.__aenter__())
        return
    assert serving_autocast("bf16", cpu) is torch.bfloat16
    with (
        running_service(tiny_checkpoint, precision="bf16") as server,
        httpx.Client(base_url=server.url, timeout=60) as http,
    ):
        answer = http.post("/v1/generate", json=body(n=3, tokens=12))
        assert answer.status_code == 200, answer.text
        candidates = answer.json()["candidates"]
        assert len(candidates) == 3 and all(c["tokens"] == 12 for c in candidates)
