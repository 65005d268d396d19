"""Log-probabilities of given continuations after given prompts, many pairs in one batch.

The coherence reranker and the continuation benchmark both ask "how likely is this text after
that story?" (and after no story, to tell what the story adds). Pairs are sorted by length and
read in padded batches; only the continuation's tokens are scored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F


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
    prompt. An empty continuation scores 0 over 0 tokens; prompts must not be empty."""
    results: list[PairScore | None] = [None] * len(pairs)
    order = sorted(range(len(pairs)), key=lambda i: len(pairs[i][0]) + len(pairs[i][1]))
    device = next(model.parameters()).device
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
        logits, _ = model.run(inputs.to(device))
        logprobs = -F.cross_entropy(
            logits.float().transpose(1, 2), targets.to(device), ignore_index=-100, reduction="none"
        ).sum(dim=1)
        for row, i in enumerate(chunk):
            results[i] = PairScore(float(logprobs[row]), len(pairs[i][1]))
    return [r if r is not None else PairScore(0.0, 0) for r in results]


@torch.no_grad()
def logprobs_after(
    model: torch.nn.Module, prompt: Sequence[int], continuations: Sequence[Sequence[int]]
) -> list[PairScore]:
    """Each continuation's log-probability after one shared prompt, which is read once (the
    reranker's case: every candidate continues the same story)."""
    device = next(model.parameters()).device
    live = [i for i, c in enumerate(continuations) if c]
    results = [PairScore(0.0, 0)] * len(continuations)
    if not live:
        return results
    logits, state = model.run(torch.tensor([list(prompt)], device=device), last_only=True)
    first = F.log_softmax(logits[0, -1].float(), dim=-1)
    width = max(len(continuations[i]) for i in live)
    ids = torch.zeros((len(live), width), dtype=torch.long)
    mask = torch.zeros((len(live), width), dtype=torch.bool)
    for row, i in enumerate(live):
        ids[row, : len(continuations[i])] = torch.tensor(continuations[i])
        mask[row, : len(continuations[i])] = True
    ids, mask = ids.to(device), mask.to(device)
    total = first[ids[:, 0]]
    if width > 1:
        out, _ = model.run(ids[:, :-1], model.expand_state(state, len(live)))
        later = F.log_softmax(out.float(), dim=-1).gather(2, ids[:, 1:, None]).squeeze(2)
        total = total + (later * mask[:, 1:]).sum(dim=1)
    for row, i in enumerate(live):
        results[i] = PairScore(float(total[row]), len(continuations[i]))
    return results
