"""SeqGAN (Yu et al. 2017): a CNN discriminator, Monte Carlo rollouts and the policy gradient.

The generator is the project's LSTM language model (`run(ids, state) -> (logits, state)`).
A generated sequence is rewarded token by token: the reward of token t is the discriminator's
mean probability of "real" over `num_rollouts` completions of the first t tokens, written by a
lagging copy of the generator (its weights follow the generator at `rate`, as in the original
code), which keeps the rewards from chasing every update. REINFORCE subtracts a baseline from
each reward to cut the variance of the gradient without changing its expectation.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from generators.models.lstm import LSTMLanguageModel, State

PAPER_FILTER_SIZES = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 15, 20]
PAPER_NUM_FILTERS = [100, 200, 200, 200, 200, 100, 100, 100, 100, 100, 160, 160]


@dataclass
class DiscriminatorConfig:
    """Filter widths and counts default to the paper's (Yu et al. 2017, appendix)."""

    vocab_size: int
    seq_len: int = 20
    embed_dim: int = 64
    filter_sizes: list[int] = field(default_factory=lambda: list(PAPER_FILTER_SIZES))
    num_filters: list[int] = field(default_factory=lambda: list(PAPER_NUM_FILTERS))
    dropout: float = 0.25
    pad_id: int = 0
    end_id: int | None = None

    def __post_init__(self) -> None:
        if len(self.filter_sizes) != len(self.num_filters):
            raise ValueError("filter_sizes and num_filters must have the same length")
        if max(self.filter_sizes) > self.seq_len:
            raise ValueError(f"a filter is wider than the sequence length {self.seq_len}")

    def to_dict(self) -> dict:
        return asdict(self)


class Discriminator(nn.Module):
    """Embeddings -> convolutions of several widths -> max over time -> highway -> dropout ->
    the logit of "real". Input: (batch, seq_len) ids, padded after the end token."""

    family = "discriminator"

    def __init__(self, config: DiscriminatorConfig):
        super().__init__()
        self.config = config
        self.embedding = nn.Embedding(config.vocab_size, config.embed_dim)
        self.convs = nn.ModuleList(
            nn.Conv1d(config.embed_dim, n, width)
            for width, n in zip(config.filter_sizes, config.num_filters, strict=True)
        )
        features = sum(config.num_filters)
        self.highway = nn.Linear(features, 2 * features)
        self.drop = nn.Dropout(config.dropout)
        self.out = nn.Linear(features, 1)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        x = self.embedding(ids).transpose(1, 2)
        pooled = torch.cat([F.relu(conv(x)).amax(dim=2) for conv in self.convs], dim=1)
        transform, gate = self.highway(pooled).chunk(2, dim=1)
        gate = torch.sigmoid(gate)
        mixed = gate * F.relu(transform) + (1 - gate) * pooled
        return self.out(self.drop(mixed)).squeeze(1)

    @torch.no_grad()
    def prob_real(self, ids: torch.Tensor, batch_size: int = 1024) -> torch.Tensor:
        was_training = self.training
        self.eval()
        probs = torch.cat([torch.sigmoid(self(chunk)) for chunk in ids.split(batch_size)])
        self.train(was_training)
        return probs


def discriminator_loss(
    discriminator: Discriminator, real: torch.Tensor, fake: torch.Tensor
) -> tuple[torch.Tensor, float]:
    """Binary cross-entropy of real (label 1) against generated (label 0); and accuracy."""
    logits = discriminator(torch.cat([real, fake]))
    labels = torch.cat([torch.ones(len(real)), torch.zeros(len(fake))]).to(logits.device)
    loss = F.binary_cross_entropy_with_logits(logits, labels)
    accuracy = float(((logits > 0).float() == labels).float().mean())
    return loss, accuracy


@dataclass(frozen=True)
class SequenceSpec:
    """What a sequence looks like: read after `start_id`, `seq_len` tokens, and (when `end_id`
    is set) finished by it, with `pad_id` after the end."""

    seq_len: int
    start_id: int
    end_id: int | None = None
    pad_id: int = 0


def sequence_mask(sequences: torch.Tensor, spec: SequenceSpec) -> torch.Tensor:
    """1.0 for every token up to and including the end token, 0.0 for the padding after it."""
    if spec.end_id is None:
        return torch.ones_like(sequences, dtype=torch.float)
    ended = (sequences == spec.end_id).long().cumsum(dim=1)
    after_end = (ended - (sequences == spec.end_id).long()) > 0
    return (~after_end).float()


def sequence_log_probs(
    model: LSTMLanguageModel, sequences: torch.Tensor, spec: SequenceSpec
) -> torch.Tensor:
    """log p(y_t | y_<t) for every position, (batch, seq_len); differentiable."""
    start = torch.full(
        (len(sequences), 1), spec.start_id, dtype=torch.long, device=sequences.device
    )
    logits, _ = model.run(torch.cat([start, sequences[:, :-1]], dim=1))
    return F.log_softmax(logits.float(), dim=-1).gather(2, sequences.unsqueeze(2)).squeeze(2)


def draw(
    logits: torch.Tensor, temperature: float, generator: torch.Generator | None
) -> torch.Tensor:
    """One token per row by inverse CDF: a single uniform per row, since drawing a random
    number per vocabulary entry (torch.multinomial, Gumbel noise) is many times slower on CPU."""
    cdf = F.softmax(logits.float() / temperature, dim=-1).cumsum(dim=-1)
    uniform = torch.rand(len(cdf), 1, generator=generator, device=cdf.device) * cdf[:, -1:]
    return torch.searchsorted(cdf, uniform, right=True).squeeze(1).clamp_max(cdf.size(1) - 1)


@torch.no_grad()
def _continue(
    model: LSTMLanguageModel,
    logits: torch.Tensor,
    state: State,
    done: torch.Tensor,
    steps: int,
    spec: SequenceSpec,
    temperature: float,
    generator: torch.Generator | None,
) -> torch.Tensor:
    """Sample `steps` tokens from next-token `logits` (batch, vocab) and `state`; rows that
    are `done` (or finish) get padding, and the model runs only on the rows still writing."""
    out = torch.full((len(logits), steps), spec.pad_id, dtype=torch.long, device=logits.device)
    live = (~done).nonzero().squeeze(1)
    logits, state = logits[live], model.select_state(state, live)
    for step in range(steps):
        if len(live) == 0:
            break
        token = draw(logits, temperature, generator)
        out[live, step] = token
        if spec.end_id is not None:
            writing = token != spec.end_id
            if not bool(writing.all()):
                live, token = live[writing], token[writing]
                state = model.select_state(state, writing)
        if step + 1 < steps and len(live):
            step_logits, state = model.run(token.unsqueeze(1), state)
            logits = step_logits[:, -1]
    return out


@torch.no_grad()
def sample_sequences(
    model: LSTMLanguageModel,
    count: int,
    spec: SequenceSpec,
    temperature: float = 1.0,
    generator: torch.Generator | None = None,
    batch_size: int = 1024,
) -> torch.Tensor:
    """`count` free-running samples, (count, seq_len), padded after the end token."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    chunks = []
    for start in range(0, count, batch_size):
        n = min(batch_size, count - start)
        first = torch.full((n, 1), spec.start_id, dtype=torch.long, device=device)
        logits, state = model.run(first)
        done = torch.zeros(n, dtype=torch.bool, device=device)
        chunks.append(
            _continue(model, logits[:, -1], state, done, spec.seq_len, spec, temperature, generator)
        )
    model.train(was_training)
    return torch.cat(chunks)


@torch.no_grad()
def rollout_completions(
    rollout: LSTMLanguageModel,
    sequences: torch.Tensor,
    spec: SequenceSpec,
    num_rollouts: int,
    generator: torch.Generator | None = None,
) -> list[torch.Tensor]:
    """For each prefix length t = 1..seq_len-1, `num_rollouts` completions of every sequence's
    first t tokens: a list of (batch * num_rollouts, seq_len) tensors, rows grouped by sequence."""
    was_training = rollout.training
    rollout.eval()
    batch, length = sequences.shape
    start = torch.full((batch, 1), spec.start_id, dtype=torch.long, device=sequences.device)
    logits, state = rollout.run(start)
    done = torch.zeros(batch, dtype=torch.bool, device=sequences.device)
    completions = []
    for t in range(1, length):
        token = sequences[:, t - 1 : t]
        if spec.end_id is not None:
            done = done | (token.squeeze(1) == spec.end_id)
        logits, state = rollout.run(token, state)
        expanded_state = rollout.expand_state(state, num_rollouts)
        tail = _continue(
            rollout,
            logits[:, -1].repeat_interleave(num_rollouts, dim=0),
            expanded_state,
            done.repeat_interleave(num_rollouts),
            length - t,
            spec,
            1.0,
            generator,
        )
        prefix = sequences[:, :t].repeat_interleave(num_rollouts, dim=0)
        completions.append(torch.cat([prefix, tail], dim=1))
    rollout.train(was_training)
    return completions


@torch.no_grad()
def rollout_rewards(
    rollout: LSTMLanguageModel,
    discriminator: Discriminator,
    sequences: torch.Tensor,
    spec: SequenceSpec,
    num_rollouts: int,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """(batch, seq_len) rewards: for t < seq_len the mean P(real) of the completions of the
    first t tokens; for the last token, and for every token after the end token (whose
    completions are the sequence itself), P(real) of the whole sequence."""
    batch = len(sequences)
    whole = discriminator.prob_real(sequences)
    ended = torch.zeros(batch, dtype=torch.bool, device=sequences.device)
    rewards = []
    completions = rollout_completions(rollout, sequences, spec, num_rollouts, generator)
    for t, done in enumerate(completions, start=1):
        if spec.end_id is not None:
            ended = ended | (sequences[:, t - 1] == spec.end_id)
        reward = whole.clone()
        open_rows = (~ended).nonzero().squeeze(1)
        if len(open_rows):
            rows = done.view(batch, num_rollouts, -1)[open_rows].flatten(0, 1)
            reward[open_rows] = discriminator.prob_real(rows).view(-1, num_rollouts).mean(dim=1)
        rewards.append(reward)
    rewards.append(whole)
    return torch.stack(rewards, dim=1)


def policy_gradient_loss(
    log_probs: torch.Tensor,
    rewards: torch.Tensor,
    baseline: torch.Tensor | float,
    mask: torch.Tensor,
) -> torch.Tensor:
    """REINFORCE: -(1/batch) * sum over sequences and tokens of (reward - baseline) * log p.

    Minimising it raises the log-probability of tokens rewarded above the baseline and lowers
    the others; rewards and baseline are constants (no gradient flows through them).
    """
    advantage = (rewards - baseline).detach() * mask
    return -(advantage * log_probs).sum() / log_probs.size(0)


@torch.no_grad()
def update_rollout(rollout: LSTMLanguageModel, generator: LSTMLanguageModel, rate: float) -> None:
    """rollout <- rate * rollout + (1 - rate) * generator (rate 0.8 in the original code)."""
    for lagging, current in zip(rollout.parameters(), generator.parameters(), strict=True):
        lagging.mul_(rate).add_(current.detach(), alpha=1 - rate)
