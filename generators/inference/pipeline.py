"""From a GenerateRequest to a GenerateResponse around the sampler: the steps every serving path
shares (in-process generator and HTTP service alike).

prepare: prompt, sampling settings, stop rule, one seed per candidate.
finish: clean the text, moderate every candidate, drop blocked ones (the caller regenerates a
few times), rerank the rest, or fall back to a safe line and say so.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from generators.inference.mood_bias import mood_token_bias
from generators.inference.name_bias import story_name_bias
from generators.inference.prompts import Prompt, build_prompt, render_output
from generators.inference.sampling import SamplingSettings
from generators.inference.sampling import Sequence as SampledSequence
from generators.schemas import (
    Candidate,
    GenerateRequest,
    GenerateResponse,
    ModerationVerdict,
    Timings,
    same_text,
)
from generators.text.speech import attribute_speech

Reranker = Callable[[GenerateRequest, list[Candidate]], list[float]]
"""Extra scorers by rerank name (style, discriminator): request, candidates -> scores."""

FALLBACK_LINES = {
    "continue": "For a moment nothing stirred, as if the story itself were holding its breath.",
    "opening": "Once upon a time, not so far from here, a new story was waiting to begin.",
    "twist": "Then, without warning, everything they thought they knew began to change.",
    "poem": "The night was still, the stars were bright,\nand every word took gentle flight.",
    "dialogue": '"Let\'s keep going," {name} said. "There is more to this story yet."',
}


@dataclass
class PreparedRequest:
    request: GenerateRequest
    prompt: Prompt
    settings: SamplingSettings
    seeds: list[int]


def sampling_settings(request: GenerateRequest) -> SamplingSettings:
    p = request.params
    return SamplingSettings(
        temperature=p.temperature,
        top_k=p.top_k,
        top_p=p.top_p,
        repetition_penalty=p.repetition_penalty,
        no_repeat_ngram=p.no_repeat_ngram,
        max_tokens=p.max_tokens,
        min_tokens=min(p.min_tokens, p.max_tokens),
    )


STORY_POOL = 5
"""Candidates sampled for the `story` reranker to choose the request's n from. A served
continue with a pool of 5 cost 1.26x today's 3 candidates by log-probability
(`bench/continuations.py --cost`, 16 stories interleaved; 4: 1.25x, 6: 1.57-1.68x): the
longest of the pool sets how many steps the batch decodes."""


def pool_size(request: GenerateRequest) -> int:
    """How many candidates to sample for a request."""
    n = request.params.n
    return max(n, STORY_POOL) if request.params.rerank == "story" else n


def prepare(
    request: GenerateRequest, tokenizer, budget: int, attempt: int = 0, pool: int | None = None
) -> PreparedRequest:
    """Everything the sampler needs; `attempt` > 0 shifts the seeds for a regeneration;
    `pool`: how many candidates to sample when not `pool_size(request)`."""
    prompt = build_prompt(tokenizer, request.kind, request.context, budget)
    base = request.params.seed
    if base is None:
        base = random.SystemRandom().randrange(2**62)
    base += attempt * 7919
    seeds = [base + i for i in range(pool if pool is not None else pool_size(request))]
    settings = sampling_settings(request)
    bias = combine_biases(story_name_bias(request, tokenizer), mood_token_bias(request, tokenizer))
    if bias:
        settings = replace(settings, token_bias=bias)
    return PreparedRequest(request, prompt, settings, seeds)


def combine_biases(*biases: tuple[tuple[int, float], ...]) -> tuple[tuple[int, float], ...]:
    """One (token id, offset) table: offsets for the same token add up."""
    total: dict[int, float] = {}
    for bias in biases:
        for token, offset in bias:
            total[token] = total.get(token, 0.0) + offset
    return tuple(sorted(total.items()))


def to_candidates(
    prepared: PreparedRequest, sequences: Sequence[SampledSequence]
) -> list[Candidate]:
    kind = prepared.request.kind
    genre = "poetry" if kind == "poem" else prepared.request.context.genre
    speaker = prepared.request.context.speaker if kind == "dialogue" else None
    return [
        Candidate(
            text=attribute_speech(render_output(kind, s.text, genre), speaker),
            score=round(s.mean_logprob, 4),
            tokens=len(s.tokens),
        )
        for s in sequences
    ]


def moderate_candidates(candidates: list[Candidate], moderator, level: str) -> list[Candidate]:
    """Attach verdicts; replace redacted text; return the candidates that are not blocked."""
    if moderator is None or not candidates:
        return [c for c in candidates if c.text.strip()]
    verdicts = moderator.check_many([c.text for c in candidates], level)
    kept = []
    for candidate, verdict in zip(candidates, verdicts, strict=True):
        candidate.moderation = verdict
        if verdict.verdict == "block" or not candidate.text.strip():
            continue
        if verdict.verdict == "redact" and verdict.redacted is not None:
            candidate.text = verdict.redacted
        kept.append(candidate)
    return kept


def not_avoided(candidates: list[Candidate], request: GenerateRequest) -> list[Candidate]:
    """The candidates that repeat none of the texts the request asks to avoid (a reroll's
    earlier alternatives): a swipe shows a new turn, even where the story's best corpus
    passage or the model's likeliest line would win again."""
    avoid = request.params.avoid
    if not avoid:
        return candidates
    return [c for c in candidates if not any(same_text(c.text, text) for text in avoid)]


def rerank(
    request: GenerateRequest, candidates: list[Candidate], rerankers: dict[str, Reranker]
) -> list[Candidate]:
    """Order candidates best first by the requested method (the contract's default is the
    `story` reranker; mean log-probability when the method has no reranker here)."""
    method = request.params.rerank
    if method == "random":
        rng = random.Random(request.params.seed)
        shuffled = list(candidates)
        rng.shuffle(shuffled)
        return shuffled
    if method in rerankers:
        scores = rerankers[method](request, candidates)
        for candidate, score in zip(candidates, scores, strict=True):
            candidate.score = round(float(score), 4)
    return sorted(candidates, key=lambda c: c.score, reverse=True)


def fallback_text(request: GenerateRequest) -> str:
    line = FALLBACK_LINES.get(request.kind, FALLBACK_LINES["continue"])
    return line.format(name=request.context.speaker or "someone").replace(
        "someone said", "they said"
    )


def respond(
    request: GenerateRequest,
    model_id: str,
    ranked: list[Candidate],
    timings: Timings,
) -> GenerateResponse:
    if not ranked:
        text = fallback_text(request)
        verdict = ModerationVerdict(verdict="allow", level=request.moderation_level)
        return GenerateResponse(
            text=text,
            candidates=[Candidate(text=text, score=0.0, moderation=verdict)],
            model=model_id,
            kind=request.kind,
            moderation=verdict,
            timings=timings,
            fallback=True,
        )
    best = ranked[0]
    return GenerateResponse(
        text=best.text,
        candidates=ranked,
        model=model_id,
        kind=request.kind,
        moderation=best.moderation,
        timings=timings,
    )
