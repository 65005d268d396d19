"""An LSTM language model with tied input/output embeddings.

The recurrent state is explicit: `run` takes and returns it, so a prompt is read once and
sampling continues from the state, and training can carry it across windows of a long stream.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from generators.models.continuous_cache import SCORING_CACHE

State = tuple[torch.Tensor, torch.Tensor]


@dataclass
class LSTMConfig:
    vocab_size: int
    embed_dim: int = 512
    hidden_dim: int = 512
    num_layers: int = 2
    dropout: float = 0.1
    embed_dropout: float = 0.05

    def to_dict(self) -> dict:
        return asdict(self)


class LSTMLanguageModel(nn.Module):
    family = "lstm"
    continuous_cache = SCORING_CACHE
    """Mixed into reading given text (`generators.models.continuous_cache`), not sampling."""

    def __init__(self, config: LSTMConfig):
        super().__init__()
        self.config = config
        self.embedding = nn.Embedding(config.vocab_size, config.embed_dim)
        self.lstm = nn.LSTM(
            config.embed_dim,
            config.hidden_dim,
            num_layers=config.num_layers,
            dropout=config.dropout if config.num_layers > 1 else 0.0,
            batch_first=True,
        )
        self.proj = (
            nn.Linear(config.hidden_dim, config.embed_dim, bias=False)
            if config.hidden_dim != config.embed_dim
            else nn.Identity()
        )
        self.drop = nn.Dropout(config.dropout)
        self.output_bias = nn.Parameter(torch.zeros(config.vocab_size))
        self._init_weights()

    def _init_weights(self) -> None:
        nn.init.normal_(self.embedding.weight, std=0.05)
        for name, param in self.lstm.named_parameters():
            if "weight" in name:
                nn.init.orthogonal_(param)
            else:
                nn.init.zeros_(param)
                hidden = self.config.hidden_dim
                param.data[hidden : 2 * hidden] = 1.0  # forget-gate bias

    def initial_state(self, batch: int, device: torch.device | None = None) -> State:
        shape = (self.config.num_layers, batch, self.config.hidden_dim)
        weight = self.embedding.weight
        device = device or weight.device
        return (
            torch.zeros(shape, device=device, dtype=weight.dtype),
            torch.zeros(shape, device=device, dtype=weight.dtype),
        )

    def run(
        self, ids: torch.Tensor, state: State | None = None, last_only: bool = False
    ) -> tuple[torch.Tensor, State]:
        """Read `ids` (batch, time) from `state`; return logits (batch, time, vocab), new state.

        last_only: logits of the last position alone (batch, 1, vocab). Reading a prompt needs
        no more, and the vocabulary projection of every position would cost more than the LSTM.
        """
        out, new_state = self.read_hidden(ids, state)
        if last_only:
            out = out[:, -1:]
        return self.logits(out), new_state

    def read_hidden(
        self, ids: torch.Tensor, state: State | None = None
    ) -> tuple[torch.Tensor, State]:
        """`run` without the vocabulary projection: the top layer's output (batch, time,
        hidden) and the new state, for a caller that needs the logits of some positions only
        (`logits` then projects those)."""
        x = self.embedding(ids)
        if self.training and self.config.embed_dropout > 0:
            x = F.dropout(x, self.config.embed_dropout)
        return self.lstm(x, state)

    def logits(self, hidden: torch.Tensor) -> torch.Tensor:
        """Next-token logits of `read_hidden` outputs (any leading shape)."""
        return F.linear(self.proj(self.drop(hidden)), self.embedding.weight, self.output_bias)

    def forward(
        self, ids: torch.Tensor, targets: torch.Tensor | None = None, state: State | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        logits, _ = self.run(ids, state)
        loss = None
        if targets is not None:
            loss = F.cross_entropy(
                logits.reshape(-1, logits.size(-1)).float(), targets.reshape(-1), ignore_index=-100
            )
        return logits, loss

    # State operations: the sampler and the service's batch handle states only through these
    # (generators.models.protocol), so a model with another kind of state serves the same way.

    @staticmethod
    def select_state(state: State, index: torch.Tensor) -> State:
        """Keep the sequences at `index`, in that order (used when a batch shrinks or grows)."""
        return state[0][:, index], state[1][:, index]

    @staticmethod
    def cat_states(states: list[State]) -> State:
        """The rows of all `states`, in order."""
        return torch.cat([s[0] for s in states], dim=1), torch.cat([s[1] for s in states], dim=1)

    @staticmethod
    def expand_state(state: State, n: int) -> State:
        """Each row repeated `n` times in place (n candidates continuing one prompt)."""
        return state[0].repeat_interleave(n, dim=1), state[1].repeat_interleave(n, dim=1)

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())
