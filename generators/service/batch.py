"""The live rows of one model: model state (an LSTM's hidden state, a transformer's key/value
cache), next-token logits and the sequences they belong to, advanced together by a single
`model.run` per step. States are moved only by the model's own operations
(generators.models.protocol).

Rows join once their prompt was read (new prompts are read together, each to its own end) and
leave the step they finish. A step that raises leaves every sequence as it was before the step,
so the scheduler can retry the rows job by job and fail only the job that breaks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

import torch

from generators.inference.registry import ServedModel
from generators.inference.sampling import Sequence, State, decode_step, fit_to_context
from generators.models.protocol import LanguageModel
from generators.service.jobs import Job


class LiveBatch:
    def __init__(self, served: ServedModel, device: torch.device):
        self.served = served
        # Served checkpoints are of LANGUAGE_FAMILIES, whose nn.Modules implement LanguageModel.
        self.model = cast(LanguageModel, served.model)
        self.device = device
        self.jobs: list[Job] = []
        self.sequences: list[Sequence] = []
        self.state: State | None = None
        self.logits: torch.Tensor | None = None

    def __len__(self) -> int:
        return len(self.sequences)

    @torch.no_grad()
    def admit(self, jobs: list[Job]) -> None:
        """Read the new jobs' prompts together, then add one row per candidate of each.

        A model's state after t tokens depends only on those t tokens (an LSTM's hidden state,
        a transformer's cache of them), and every row of one call has read the same tokens
        counts, so prompts of different lengths share every model call up to the next prompt's
        end: the calls number the distinct lengths and the sequential steps the longest prompt,
        not the sum of all. Nothing is added unless every prompt was read.
        """
        model = self.model
        fitted = [
            fit_to_context(model, job.prepared.prompt.ids, job.prepared.settings) for job in jobs
        ]
        prompts = [prompt for prompt, _ in fitted]
        # (job index, its next-token logits, the state its prompt was read into, its row there)
        read: list[tuple[int, torch.Tensor, State, int]] = []
        reading = list(range(len(jobs)))
        state: State | None = None
        start = 0
        for end in sorted({len(p) for p in prompts}):
            ids = torch.tensor([prompts[i][start:end] for i in reading], device=self.device)
            out, state = model.run(ids, state, last_only=True)
            for row, i in enumerate(reading):
                if len(prompts[i]) == end:
                    read.append((i, out[row, -1], state, row))
            rows = [row for row, i in enumerate(reading) if len(prompts[i]) > end]
            if rows:
                state = model.select_state(state, torch.tensor(rows, device=self.device))
            reading = [reading[row] for row in rows]
            start = end
        owners: list[Job] = []
        sequences: list[Sequence] = []
        logits, states = [], []
        for i, last, group, row in read:
            job = jobs[i]
            job.sequences = job.new_sequences()
            for sequence in job.sequences:
                sequence.prompt, sequence.settings = fitted[i]
            n = len(job.sequences)
            owners += [job] * n
            sequences += job.sequences
            logits.append(last.unsqueeze(0).expand(n, -1))
            states.append(model.select_state(group, torch.full((n,), row, device=self.device)))
        self._append(owners, sequences, torch.cat(logits), model.cat_states(states))

    def _append(
        self, jobs: list[Job], sequences: list[Sequence], logits: torch.Tensor, state: State
    ) -> None:
        if self.state is None or self.logits is None:
            self.state = state
            self.logits = logits.contiguous()
        else:
            self.state = self.model.cat_states([self.state, state])
            self.logits = torch.cat([self.logits, logits], dim=0)
        self.jobs += jobs
        self.sequences += sequences

    def keep(self, rows: list[int]) -> None:
        """Keep only `rows` (in order); the rest leave the batch."""
        if len(rows) == len(self.sequences):
            return
        self.jobs = [self.jobs[i] for i in rows]
        self.sequences = [self.sequences[i] for i in rows]
        if not rows:
            self.state = self.logits = None
            return
        assert self.state is not None and self.logits is not None
        index = torch.tensor(rows, device=self.device)
        self.state = self.model.select_state(self.state, index)
        self.logits = self.logits[index]

    def keep_jobs(self, wanted: Callable[[Job], bool]) -> None:
        self.keep([i for i, job in enumerate(self.jobs) if wanted(job)])

    @torch.no_grad()
    def step(self) -> set[Job]:
        """Advance every row by one token; return the jobs whose last sequence just finished."""
        assert self.state is not None and self.logits is not None
        before = [(len(s.tokens), s.logprob) for s in self.sequences]
        try:
            chosen = decode_step(self.model, self.sequences, self.logits, self.served.tables)
            live = [i for i, s in enumerate(self.sequences) if not s.finished]
            if live:
                state = self.state
                if len(live) < len(self.sequences):
                    index = torch.tensor(live, device=self.device)
                    chosen = chosen[index]
                    state = self.model.select_state(state, index)
                out, state = self.model.run(chosen.unsqueeze(1), state)
        except Exception:
            for sequence, (length, logprob) in zip(self.sequences, before, strict=True):
                rewind(sequence, length, logprob)
            raise
        touched = {job for job, s in zip(self.jobs, self.sequences, strict=True) if s.finished}
        self.jobs = [self.jobs[i] for i in live]
        self.sequences = [self.sequences[i] for i in live]
        if live:
            self.state, self.logits = state, out[:, -1, :]
        else:
            self.state = self.logits = None
        return {job for job in touched if all(s.finished for s in job.sequences)}

    def split(self) -> list[LiveBatch]:
        """One batch per job (to find which job makes a step fail)."""
        parts = []
        for job in dict.fromkeys(self.jobs):
            rows = [i for i, owner in enumerate(self.jobs) if owner is job]
            part = LiveBatch(self.served, self.device)
            part.jobs, part.sequences = list(self.jobs), list(self.sequences)
            part.state, part.logits = self.state, self.logits
            part.keep(rows)
            parts.append(part)
        return parts

    def merge(self, parts: list[LiveBatch]) -> None:
        """Replace this batch's rows with the rows of `parts`."""
        self.jobs, self.sequences, self.state, self.logits = [], [], None, None
        for part in parts:
            if len(part):
                assert part.state is not None and part.logits is not None
                self._append(part.jobs, part.sequences, part.logits, part.state)


def rewind(sequence: Sequence, length: int, logprob: float) -> None:
    """Undo a failed step: tokens, score, stop flags and the random generator.

    A live sequence has drawn exactly one uniform per token, so re-seeding and drawing `length`
    times puts its generator back where it was.
    """
    del sequence.tokens[length:]
    sequence.logprob = logprob
    sequence.finished, sequence.stop_reason, sequence.text = False, "", ""
    generator = sequence.generator
    generator.manual_seed(generator.initial_seed())
    for _ in range(length):
        torch.rand((), generator=generator)
