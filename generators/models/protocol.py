"""What the sampler and the service's batch need of a language model, whatever its state is.

The LSTM's state is an (h, c) pair, the transformer's a left-padded key/value cache: callers
never look inside one. They read tokens with `run` and move whole rows of states with three
operations, so any model that provides these serves through the same sampling, batching and
reranking:

- `run(ids, state=None, last_only=False)`: read `ids` (batch, time) after `state` (None: an
  empty context); return logits (batch, time, vocab), or (batch, 1, vocab) with `last_only`,
  and the state after the new tokens. Every row reads `time` real tokens; rows of one state may
  have read different numbers of tokens before.
- `select_state(state, index)`: the rows at `index` (a 1-D long tensor), in that order; an
  index may repeat a row.
- `cat_states(states)`: the rows of all `states`, in order.
- `expand_state(state, n)`: each row repeated `n` times in place (row i becomes rows
  i*n .. i*n+n-1): n candidates continuing one prompt.

A state may be shared by several later calls (a prompt read once, then continued by several
openings): `run` and the operations never change a state in place.

`read_hidden(ids, state=None)` and `logits(hidden)` (optional, together): `run` in two halves,
the model's last hidden states (batch, time, hidden) and then the vocabulary projection of any
of them. Reading given text (the rerankers) needs the logits of real positions only, and the
projection is about half of a small model's work, so padding rows to one length costs less.
A model without them (a brought Hugging Face folder) is read with `run`.

`max_positions` (optional): the most tokens one row may read in all, prompt and generated text
together; a model without it (the LSTM) has no such limit.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import torch


@runtime_checkable
class LanguageModel(Protocol):
    def run(
        self, ids: torch.Tensor, state: Any = None, last_only: bool = False
    ) -> tuple[torch.Tensor, Any]: ...

    def select_state(self, state: Any, index: torch.Tensor) -> Any: ...

    def cat_states(self, states: list[Any]) -> Any: ...

    def expand_state(self, state: Any, n: int) -> Any: ...


@runtime_checkable
class HiddenReader(Protocol):
    """A model that splits `run` into `read_hidden` and `logits` (see above)."""

    def read_hidden(self, ids: torch.Tensor, state: Any = None) -> tuple[torch.Tensor, Any]: ...

    def logits(self, hidden: torch.Tensor) -> torch.Tensor: ...


def reads_hidden(model: Any) -> bool:
    """Whether the model splits `run` into `read_hidden` and `logits`."""
    return callable(getattr(model, "read_hidden", None)) and callable(
        getattr(model, "logits", None)
    )


def max_positions(model: Any) -> int | None:
    """The model's context limit in tokens, or None when it has none."""
    limit = getattr(model, "max_positions", None)
    return int(limit) if limit is not None else None
