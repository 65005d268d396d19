"""Reading candidates after prompts for concurrent requests in one batch
(generators.inference.score_batcher): the same scores as one request's reading alone, calls
that coincide read together, and stopped, failing or late calls leave nothing behind."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import torch
from test_retrieval import CAKE_STORY, KITE_STORY, NAMES_STORY, documents
from test_service_support import GatedModel, WrappedModel, tiny_registry

from generators.client import InProcessGenerator
from generators.errors import GeneratorUnavailable
from generators.inference import pipeline
from generators.inference.continuation_scoring import logprobs_after, logprobs_after_many
from generators.inference.orchestration import stoppable
from generators.inference.registry import ModelRegistry
from generators.inference.score_batcher import ScoreBatcher
from generators.inference.story_rerank import story_scores
from generators.moderation import Moderator
from generators.retrieval.index import build_index
from generators.retrieval.source import RetrievalSource, as_candidates, passage_ids
from generators.schemas import GenerateRequest
from generators.service.sidework import Ticket, WorkStopped

STORIES = [
    ["Lily went to the park. She saw a big dog."],
    ["Tom had a red ball.", "He threw it over the wall and ran after it."],
    ["Mia and Sam baked a cake for their mom."],
    ["The old cat slept by the fire.", "A mouse came out of the wall.", "The cat woke up."],
]
TEXTS = ["The dog ran to Lily.", "She smiled.", "Tom laughed and laughed at the ball.", "Yes."]


@pytest.fixture(scope="module")
def served(tiny_checkpoint):
    return ModelRegistry("cpu").load(tiny_checkpoint)


def calls_of(tokenizer) -> list[tuple[list[int], list[list[int]]]]:
    """Prompts of different lengths (one twice), continuations of 0, 1 and more tokens."""
    prompts = [[tokenizer.eos_id, *tokenizer.encode(" ".join(story))] for story in STORIES]
    conts = [tokenizer.encode(t) for t in TEXTS]
    return [
        (prompts[0], conts),
        (prompts[1], [conts[1], [], conts[2]]),
        (prompts[2], [conts[3][:1]]),
        (prompts[0], conts[::-1]),
        (prompts[3], conts[:2]),
    ]


def assert_same(got, want) -> None:
    for a, b in zip(got, want, strict=True):
        assert a.tokens == b.tokens
        assert a.logprob == pytest.approx(b.logprob, abs=1e-3)


@pytest.mark.parametrize("family", ["lstm", "transformer"])
def test_many_prompts_read_together_score_as_each_alone(family, tiny_checkpoint, tiny_transformer):
    path = tiny_checkpoint if family == "lstm" else tiny_transformer
    served = ModelRegistry("cpu").load(path)
    calls = calls_of(served.tokenizer)
    together = logprobs_after_many(served.model, calls, max_rows=4)
    for (prompt, conts), got in zip(calls, together, strict=True):
        assert_same(got, logprobs_after(served.model, prompt, conts))


def test_calls_waiting_together_are_read_in_one_batch(served):
    model = GatedModel(served.model)
    sizes: list[int] = []
    batcher = ScoreBatcher(window_s=0.0, on_batch=sizes.append)
    calls = calls_of(served.tokenizer)
    try:
        first = batcher.submit(model, *calls[0])
        assert model.entered.wait(30)
        rest = [batcher.submit(model, prompt, conts) for prompt, conts in calls[1:]]
        model.gate.set()
        results = [first.result(30), *(future.result(30) for future in rest)]
    finally:
        batcher.stop()
    assert sizes == [1, len(calls) - 1]
    for (prompt, conts), got in zip(calls, results, strict=True):
        assert_same(got, logprobs_after(model, prompt, conts))


def test_a_stopped_or_cancelled_call_leaves_the_queue_unread(served):
    model = GatedModel(served.model)
    sizes: list[int] = []
    batcher = ScoreBatcher(window_s=0.0, on_batch=sizes.append)
    (prompt, conts), (other, more), (third, last) = calls_of(served.tokenizer)[:3]
    try:
        first = batcher.submit(model, prompt, conts)
        assert model.entered.wait(30)
        ticket = Ticket()
        stopped = batcher.submit(model, other, more, ticket)
        cancelled = batcher.submit(model, third, last)
        ticket.stopped = True
        assert cancelled.cancel()
        model.gate.set()
        first.result(30)
        with pytest.raises(WorkStopped):
            stopped.result(30)
        assert batcher.submit(model, prompt, conts).result(30)
    finally:
        batcher.stop()
    assert sizes == [1, 1], "neither the stopped nor the cancelled call was read"


async def test_an_awaited_call_cancelled_while_it_waits_is_never_read(served):
    model = GatedModel(served.model)
    sizes: list[int] = []
    batcher = ScoreBatcher(window_s=0.0, on_batch=sizes.append)
    (prompt, conts), (other, more) = calls_of(served.tokenizer)[:2]
    try:
        first = asyncio.create_task(batcher.score(model, prompt, conts))
        assert await asyncio.to_thread(model.entered.wait, 30)
        late = asyncio.create_task(batcher.score(model, other, more))
        await asyncio.sleep(0)
        late.cancel()
        model.gate.set()
        await first
        assert await batcher.score(model, prompt, conts)
    finally:
        batcher.stop()
    assert late.cancelled()
    assert sizes == [1, 1]


class BreaksOn(WrappedModel):
    """Raises when a call's rows include the prompt that starts with `token` after eos."""

    def __init__(self, model, token: int):
        super().__init__(model)
        self.token = token

    def run(self, ids, state=None, last_only=False):
        if last_only and ids.size(1) > 1 and (ids[:, 1] == self.token).any():
            raise RuntimeError("the model broke")
        return super().run(ids, state, last_only)


def test_a_call_that_breaks_its_batch_fails_alone(served):
    calls = calls_of(served.tokenizer)
    broken = calls[1][0][1]
    model = GatedModel(BreaksOn(served.model, broken))
    batcher = ScoreBatcher(window_s=0.0)
    try:
        blocker = batcher.submit(model, *calls[0])
        assert model.entered.wait(30)
        futures = [batcher.submit(model, prompt, conts) for prompt, conts in calls[1:3]]
        model.gate.set()
        blocker.result(30)
        with pytest.raises(RuntimeError, match="the model broke"):
            futures[0].result(30)
        assert_same(futures[1].result(30), logprobs_after(model, *calls[2]))
    finally:
        batcher.stop()


def test_a_failure_outside_the_model_fails_its_calls_and_reading_goes_on(served):
    failures = [RuntimeError("the metrics broke")]

    def on_batch(size: int) -> None:
        if failures:
            raise failures.pop()

    batcher = ScoreBatcher(window_s=0.0, on_batch=on_batch)
    prompt, conts = calls_of(served.tokenizer)[0]
    try:
        with pytest.raises(RuntimeError, match="the metrics broke"):
            batcher.submit(served.model, prompt, conts).result(30)
        again = batcher.submit(served.model, prompt, conts).result(30)
    finally:
        batcher.stop()
    assert_same(again, logprobs_after(served.model, prompt, conts))


def test_stopping_fails_what_waits_and_refuses_more(served):
    model = GatedModel(served.model)
    batcher = ScoreBatcher(window_s=0.0)
    (prompt, conts), (other, more) = calls_of(served.tokenizer)[:2]
    first = batcher.submit(model, prompt, conts)
    assert model.entered.wait(30)
    waiting = batcher.submit(model, other, more)
    stopper = threading.Thread(target=batcher.stop)
    stopper.start()
    while not batcher.stopping:
        time.sleep(0.01)
    model.gate.set()
    stopper.join(30)
    assert first.result(30)
    with pytest.raises(GeneratorUnavailable, match="shutting down"):
        waiting.result(30)
    with pytest.raises(GeneratorUnavailable, match="shutting down"):
        batcher.score_after(model, prompt, conts)


def story_request(turns: list[str]) -> GenerateRequest:
    return GenerateRequest.model_validate(
        {
            "kind": "continue",
            "context": {"genre": "children", "turns": [{"text": t} for t in turns]},
        }
    )


def test_story_scores_read_together_equal_the_scores_read_alone(served):
    """The story reranker of four requests asking at once, through one batch."""
    sizes: list[int] = []
    batcher = ScoreBatcher(window_s=30.0, max_calls=len(STORIES), on_batch=sizes.append)
    requests = [story_request(turns) for turns in STORIES]
    conditional = [-1.0, -2.0, -3.0, -4.0]

    def together(request: GenerateRequest) -> list[float]:
        return story_scores(
            served, request, TEXTS, conditional=conditional, score_after=batcher.score_after
        )

    try:
        with ThreadPoolExecutor(len(requests)) as pool:
            batched = list(pool.map(together, requests))
    finally:
        batcher.stop()
    assert sizes == [len(requests)] * 2  # after the story (the cache's recall), after none
    for request, got in zip(requests, batched, strict=True):
        alone = story_scores(served, request, TEXTS, conditional=conditional)
        assert got == pytest.approx(alone, abs=1e-3)


async def test_retrieved_passages_score_as_the_retrieval_source_scores_them(tiny_checkpoint):
    index = build_index(documents(KITE_STORY, CAKE_STORY, NAMES_STORY))
    retrieval = RetrievalSource(index, count=2)
    generator = InProcessGenerator(
        tiny_registry(tiny_checkpoint), moderator=Moderator(use_classifier=False)
    )
    engine = generator.engine
    served = engine.registry.get(None)
    request = story_request(
        [
            "Marta flew her kite on the hill. The string snapped in the wind.",
            "She chased the kite across the field and found it stuck in an oak tree.",
        ]
    )
    prepared = pipeline.prepare(request, served.tokenizer, engine.prompt_budget)
    try:
        got = await engine._optional_retrieved(retrieval, prepared, served)
    finally:
        await generator.aclose()
    found = retrieval.find(request)
    ids = passage_ids(found, served.tokenizer, prepared.prompt.prefix_text)
    want = as_candidates(found, logprobs_after(served.model, prepared.prompt.ids, ids))
    assert got and [c.text for c in got] == [c.text for c in want]
    assert [c.tokens for c in got] == [c.tokens for c in want]
    assert [c.score for c in got] == pytest.approx([c.score for c in want], abs=1e-3)


@pytest.mark.parametrize("family", ["lstm", "transformer"])
def test_reading_projects_real_positions_as_run_does(family, tiny_checkpoint, tiny_transformer):
    """The reader projects only unpadded positions (`read_hidden` + `logits`); a model that
    only has `run` (a brought folder, a test wrapper) is read whole, with the same scores
    when the continuous cache (which needs `read_hidden`) is off."""
    path = tiny_checkpoint if family == "lstm" else tiny_transformer
    model = ModelRegistry("cpu").load(path).model
    model.continuous_cache = None
    ids = torch.tensor([[5, 9, 11, 40], [7, 7, 3, 2]])
    hidden, _ = model.read_hidden(ids)
    logits, _ = model.run(ids)
    assert torch.allclose(model.logits(hidden), logits, atol=1e-5)
    calls = calls_of(ModelRegistry("cpu").load(path).tokenizer)
    for got, want in zip(
        logprobs_after_many(model, calls),
        logprobs_after_many(WrappedModel(model), calls),
        strict=True,
    ):
        assert_same(got, want)


def test_side_work_stops_at_its_next_reading_either_way(served):
    """Twists and style leads step a model that checks its caller first, through `run` and,
    for the batched reader's path, through `read_hidden`."""
    ticket = Ticket()
    model = stoppable(served, ticket).model
    ids = torch.tensor([[5, 9, 11]])
    hidden, _ = model.read_hidden(ids)
    assert torch.allclose(model.logits(hidden), served.model.run(ids)[0], atol=1e-5)
    ticket.stopped = True
    with pytest.raises(WorkStopped):
        model.run(ids)
    with pytest.raises(WorkStopped):
        model.read_hidden(ids)
