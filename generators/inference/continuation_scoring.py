"""Log-probabilities of given continuations after given prompts, many pairs in one batch.

The coherence reranker and the continuation benchmark both ask "how likely is this text after
that story?" (and after no story, to tell what the story adds). Pairs are sorted by length and
read in padded batches; only the continuation's tokens are scored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

import torch
import torch.nn.functional as F

from generators.models.continuous_cache import ContinuousCache, cache_of, mixed_logprobs
from generators.models.protocol import HiddenReader, LanguageModel, reads_hidden


def language_model(model: torch.nn.Module) -> LanguageModel:
    """The served model as the LanguageModel it is: every served family implements it, which
    nn.Module's attribute typing (any attribute a Tensor or a Module) cannot say."""
    return cast(LanguageModel, model)


def hidden_reader(model: torch.nn.Module) -> HiddenReader:
    """The model as the `HiddenReader` it is where `cache_of` found a cache (which needs it)."""
    return cast(HiddenReader, model)


@dataclass(frozen=True)
class PairScore:
    logprob: float
    """Summed natural-log probability of the continuation's tokens."""
    tokens: int

    @property
    def mean(self) -> float:
        return self.logprob / max(self.tokens, 1)


@torch.no_grad()
def continuation_logprobs(
    model: torch.nn.Module,
    pairs: Sequence[tuple[Sequence[int], Sequence[int]]],
    pad_id: int,
    batch_size: int = 16,
) -> list[PairScore]:
    """For each (prompt ids, continuation ids), the continuation's log-probability after the
    prompt (with the model's continuous cache, if it has one). An empty continuation scores 0
    over 0 tokens; prompts must not be empty."""
    results: list[PairScore | None] = [None] * len(pairs)
    order = sorted(range(len(pairs)), key=lambda i: len(pairs[i][0]) + len(pairs[i][1]))
    device = next(model.parameters()).device
    cache = cache_of(model)
    for start in range(0, len(order), batch_size):
        chunk = [i for i in order[start : start + batch_size] if pairs[i][1]]
        for i in order[start : start + batch_size]:
            if not pairs[i][1]:
                results[i] = PairScore(0.0, 0)
        if not chunk:
            continue
        width = max(len(pairs[i][0]) + len(pairs[i][1]) for i in chunk) - 1
        inputs = torch.full((len(chunk), width), pad_id, dtype=torch.long)
        targets = torch.full((len(chunk), width), -100, dtype=torch.long)
        for row, i in enumerate(chunk):
            prompt, cont = pairs[i]
            ids = torch.tensor([*prompt, *cont], dtype=torch.long)
            inputs[row, : len(ids) - 1] = ids[:-1]
            targets[row, len(prompt) - 1 : len(ids) - 1] = ids[len(prompt) :]
        inputs, targets = inputs.to(device), targets.to(device)
        if cache is None:
            logits, _ = language_model(model).run(inputs)
            hidden = None
        else:
            reader = hidden_reader(model)
            hidden, _ = reader.read_hidden(inputs)
            logits = reader.logits(hidden)
        picked = -F.cross_entropy(
            logits.float().transpose(1, 2), targets, ignore_index=-100, reduction="none"
        )
        for row, i in enumerate(chunk):
            prompt, cont = pairs[i]
            if cache is None or hidden is None:
                total = float(picked[row].sum())
            else:
                end = len(prompt) + len(cont) - 1
                following = torch.tensor([*prompt[1:], *cont], device=device)
                total = float(
                    mixed_logprobs(
                        cache,
                        picked[row, len(prompt) - 1 : end],
                        hidden[row, :end],
                        following,
                        len(prompt) - 1,
                    ).sum()
                )
            results[i] = PairScore(total, len(cont))
    return [r if r is not None else PairScore(0.0, 0) for r in results]


def logprobs_after(
    model: torch.nn.Module, prompt: Sequence[int], continuations: Sequence[Sequence[int]]
) -> list[PairScore]:
    """Each continuation's log-probability after one shared prompt, which is read once (the
    reranker's case: every candidate continues the same story)."""
    if not any(continuations):
        return [PairScore(0.0, 0)] * len(continuations)
    return logprobs_after_many(model, [(prompt, continuations)])[0]


ScoreCall = tuple[Sequence[int], Sequence[Sequence[int]]]
"""One prompt and the continuations to score after it (one `logprobs_after` call)."""


@torch.no_grad()
def logprobs_after_many(
    model: torch.nn.Module, calls: Sequence[ScoreCall], max_rows: int = 64
) -> list[list[PairScore]]:
    """`logprobs_after` for many prompts at once, in a few padded model calls: what several
    stories' rerankers ask together. Distinct prompts are read together, each once, up to its
    own end (as the batch reads new prompts: every row of a call has read as many tokens); then
    up to `max_rows` continuations, each from its prompt's state, are read per call. With
    the model's continuous cache, each prompt's hidden states are kept for its continuations'
    recall."""
    device = next(model.parameters()).device
    lm = language_model(model)
    cache = cache_of(model)
    prompts = list(dict.fromkeys(tuple(prompt) for prompt, _ in calls))
    # Per prompt: its next-token log-probabilities, and where its state is (stage, row).
    firsts: dict[int, torch.Tensor] = {}
    places: dict[int, tuple[int, int]] = {}
    read: dict[int, list[torch.Tensor]] = {i: [] for i in range(len(prompts))}
    stages: list[object] = []
    reading = list(range(len(prompts)))
    state = None
    start = 0
    for end in sorted({len(p) for p in prompts}):
        ids = torch.tensor([prompts[i][start:end] for i in reading], device=device)
        if cache is None:
            logits, state = lm.run(ids, state, last_only=True)
        else:
            reader = hidden_reader(model)
            hidden, state = reader.read_hidden(ids, state)
            logits = reader.logits(hidden[:, -1:])
            for row, i in enumerate(reading):
                read[i].append(hidden[row])
        for row, i in enumerate(reading):
            if len(prompts[i]) == end:
                firsts[i] = F.log_softmax(logits[row, -1].float(), dim=-1)
                places[i] = (len(stages), row)
        stages.append(state)
        rows = [row for row, i in enumerate(reading) if len(prompts[i]) > end]
        if rows:
            state = lm.select_state(state, torch.tensor(rows, device=device))
        reading = [reading[row] for row in rows]
        start = end
    which = {prompt: i for i, prompt in enumerate(prompts)}
    results = [[PairScore(0.0, 0)] * len(continuations) for _, continuations in calls]
    live = sorted(
        (
            (places[which[tuple(prompt)]], which[tuple(prompt)], call, index)
            for call, (prompt, continuations) in enumerate(calls)
            for index, continuation in enumerate(continuations)
            if continuation
        ),
        key=lambda row: row[0],
    )
    for begin in range(0, len(live), max_rows):
        chunk = live[begin : begin + max_rows]
        conts = [calls[call][1][index] for _, _, call, index in chunk]
        if cache is None:
            totals = _read_after(model, stages, chunk, conts, firsts, device)
        else:
            recall = [(prompts[p], torch.cat(read[p])) for _, p, _, _ in chunk]
            totals = _read_after_recalling(model, cache, stages, chunk, conts, firsts, recall)
        for row, (_, _, call, index) in enumerate(chunk):
            results[call][index] = PairScore(float(totals[row]), len(conts[row]))
    return results


def _padded(conts: list, device) -> tuple[torch.Tensor, torch.Tensor]:
    """The continuations as rows of ids padded to the longest, and where each row is real."""
    width = max(len(c) for c in conts)
    ids = torch.zeros((len(conts), width), dtype=torch.long)
    mask = torch.zeros((len(conts), width), dtype=torch.bool)
    for row, cont in enumerate(conts):
        ids[row, : len(cont)] = torch.tensor(cont)
        mask[row, : len(cont)] = True
    return ids.to(device), mask.to(device)


def _read_after(model, stages: list, chunk: list, conts: list, firsts: dict, device) -> list:
    """Each continuation's summed log-probability after its prompt's state, the rows padded
    to the longest (one call: reading rows as they end, without padding, took longer). A
    model that can (`reads_hidden`) projects the real positions only, not the padding."""
    ids, mask = _padded(conts, device)
    width = ids.size(1)
    totals = torch.stack([firsts[p][ids[row, 0]] for row, (_, p, _, _) in enumerate(chunk)])
    if width == 1:
        return totals.tolist()
    state = _states_of(model, stages, chunk, device)
    targets, real = ids[:, 1:], mask[:, 1:]
    if reads_hidden(model):
        hidden, _ = model.read_hidden(ids[:, :-1], state)
        logits = model.logits(hidden[real]).float()
        picked = logits.gather(1, targets[real][:, None]).squeeze(1) - logits.logsumexp(dim=-1)
        rows = torch.arange(len(chunk), device=device)[:, None].expand_as(real)[real]
        return totals.index_add(0, rows, picked).tolist()
    out, _ = model.run(ids[:, :-1], state)
    later = F.log_softmax(out.float(), dim=-1).gather(2, targets[:, :, None]).squeeze(2)
    return (totals + (later * real).sum(dim=1)).tolist()


def _read_after_recalling(
    model, cache: ContinuousCache, stages: list, chunk: list, conts: list, firsts: dict, recall
) -> list[float]:
    """`_read_after` with the continuous cache: each row's per-token log-probabilities mixed
    with what its prompt and its own earlier tokens recall (`recall`: each row's prompt ids and
    hidden states)."""
    device = firsts[chunk[0][1]].device
    ids, mask = _padded(conts, device)
    width = ids.size(1)
    hidden = None
    later = torch.zeros((len(chunk), width - 1), device=device)
    if width > 1:
        hidden, _ = model.read_hidden(ids[:, :-1], _states_of(model, stages, chunk, device))
        real = mask[:, 1:]
        logits = model.logits(hidden[real]).float()
        picked = logits.gather(1, ids[:, 1:][real][:, None]).squeeze(1) - logits.logsumexp(-1)
        later[real] = picked
    totals = []
    for row, ((_, p, _, _), cont, (prompt, prompt_hidden)) in enumerate(
        zip(chunk, conts, recall, strict=True)
    ):
        own = len(cont) - 1
        model_logprobs = torch.cat([firsts[p][ids[row, :1]], later[row, :own]])
        states = prompt_hidden if hidden is None else torch.cat([prompt_hidden, hidden[row, :own]])
        following = torch.tensor([*prompt[1:], *cont], device=device)
        mixed = mixed_logprobs(cache, model_logprobs, states, following, len(prompt) - 1)
        totals.append(float(mixed.sum()))
    return totals


def _states_of(model, stages: list, chunk: list, device) -> object:
    """The prompt state of each row of `chunk` (sorted by stage), one selection per stage."""
    parts = []
    for stage in dict.fromkeys(place[0] for place, *_ in chunk):
        rows = [place[1] for place, *_ in chunk if place[0] == stage]
        parts.append(model.select_state(stages[stage], torch.tensor(rows, device=device)))
    return parts[0] if len(parts) == 1 else model.cat_states(parts)
