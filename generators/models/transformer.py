"""A decoder-only transformer language model, defined with Hugging Face `transformers` (Llama).

The weights are a `LlamaModel` under the name `model.` with the output projection tied to the
input embedding, which is exactly what `LlamaForCausalLM` with `tie_word_embeddings=True`
stores: the checkpoint folder loads with `AutoModelForCausalLM.from_pretrained` and no project
code. Keeping the tie ourselves (logits = hidden @ embedding) keeps every tensor stored once, so
the trainer's safetensors files need no special case for shared storage.

`run` has the LSTM's shape (read ids from a state, return logits and the new state), with a
key/value cache as the state. Rows of a batch may have read different lengths: the cache is
left-padded, a mask says which slots hold real tokens and each row keeps its own next position,
so rows join, leave and are expanded exactly as the LSTM's hidden states are.
"""

from __future__ import annotations

import inspect
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn
from transformers import LlamaConfig, LlamaModel
from transformers.cache_utils import CacheLayerMixin, DynamicCache, DynamicLayer

from generators.models.continuous_cache import SCORING_CACHE


def cache_argument(forward) -> str:
    """The keyword a model's forward takes its key/value cache by: `cache` in transformers 5.24
    and later, `past_key_values` before (the GPU image may carry an older release)."""
    return "cache" if "cache" in inspect.signature(forward).parameters else "past_key_values"


def _keys_and_values(layer: object) -> tuple[torch.Tensor, torch.Tensor]:
    """A cache layer's keys and values, which every layer of a Llama cache holds once read."""
    if not isinstance(layer, CacheLayerMixin) or layer.keys is None or layer.values is None:
        raise RuntimeError(f"the model's cache has a layer without keys and values: {layer!r}")
    return layer.keys, layer.values


def _held_layer(keys: torch.Tensor, values: torch.Tensor) -> DynamicLayer:
    """A cache layer that holds a state's keys and values as they are. Filling an empty layer
    with `update` copies them (concatenated onto nothing) before the forward concatenates the
    new tokens' onto that copy: a second copy of the whole cache per layer and step. The
    forward's own concatenation still makes a new tensor, so the state is never changed."""
    layer = DynamicLayer()
    layer.device = keys.device
    layer.keys, layer.values = keys, values
    layer.is_initialized = True
    return layer


def output_cache(output) -> DynamicCache:
    cache = getattr(output, "cache", None)
    return cache if cache is not None else output.past_key_values


@dataclass
class TransformerConfig:
    vocab_size: int
    hidden_size: int = 256
    num_layers: int = 4
    num_heads: int = 4
    num_kv_heads: int = 4
    intermediate_size: int = 688
    max_positions: int = 1024
    rope_theta: float = 10000.0
    dropout: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)

    def to_hf(self, bos_id: int = 0, eos_id: int = 0, pad_id: int = 0) -> LlamaConfig:
        """The same model as a Hugging Face config (what config.json of a checkpoint holds)."""
        return LlamaConfig(
            vocab_size=self.vocab_size,
            hidden_size=self.hidden_size,
            intermediate_size=self.intermediate_size,
            num_hidden_layers=self.num_layers,
            num_attention_heads=self.num_heads,
            num_key_value_heads=self.num_kv_heads,
            max_position_embeddings=self.max_positions,
            rope_parameters={"rope_type": "default", "rope_theta": self.rope_theta},
            attention_dropout=self.dropout,
            tie_word_embeddings=True,
            bos_token_id=bos_id,
            eos_token_id=eos_id,
            pad_token_id=pad_id,
            architectures=["LlamaForCausalLM"],
        )


@dataclass
class KVState:
    """A left-padded key/value cache for a batch of rows.

    keys/values: one (batch, kv_heads, slots, head_dim) tensor per layer; mask: (batch, slots),
    True where a slot holds a real token; positions: (batch,), the next token's position.
    """

    keys: list[torch.Tensor]
    values: list[torch.Tensor]
    mask: torch.Tensor
    positions: torch.Tensor

    @property
    def batch(self) -> int:
        return int(self.mask.size(0))

    def select(self, index: torch.Tensor) -> KVState:
        """Keep the rows at `index` (in order), dropping slots no kept row uses."""
        mask = self.mask[index]
        used = mask.any(dim=0).nonzero()
        first = int(used[0]) if used.numel() else mask.size(1)
        return KVState(
            [k[index, :, first:] for k in self.keys],
            [v[index, :, first:] for v in self.values],
            mask[:, first:],
            self.positions[index],
        )

    def expand(self, n: int) -> KVState:
        """Each row repeated `n` times in place (candidates sharing one prompt)."""
        index = torch.arange(self.batch, device=self.mask.device).repeat_interleave(n)
        return KVState(
            [k[index] for k in self.keys],
            [v[index] for v in self.values],
            self.mask[index],
            self.positions[index],
        )

    @staticmethod
    def cat(states: list[KVState]) -> KVState:
        """Rows of all `states`, left-padded to the longest cache."""
        width = max(s.mask.size(1) for s in states)

        def pad(t: torch.Tensor, slots: int) -> torch.Tensor:
            return F.pad(t, (0, 0, slots, 0)) if slots else t

        layers = len(states[0].keys)
        keys = [
            torch.cat([pad(s.keys[i], width - s.mask.size(1)) for s in states])
            for i in range(layers)
        ]
        values = [
            torch.cat([pad(s.values[i], width - s.mask.size(1)) for s in states])
            for i in range(layers)
        ]
        mask = torch.cat([F.pad(s.mask, (width - s.mask.size(1), 0)) for s in states])
        return KVState(keys, values, mask, torch.cat([s.positions for s in states]))


@dataclass
class CacheStep:
    """What a Hugging Face forward needs to read `time` new tokens per row after a `KVState`:
    the cache rebuilt from it, the attention mask over past and new slots, and each new
    token's position."""

    cache: DynamicCache
    mask: torch.Tensor
    positions: torch.Tensor
    start: torch.Tensor

    @classmethod
    def after(cls, ids: torch.Tensor, state: KVState | None) -> CacheStep:
        batch, time = ids.shape
        device = ids.device
        cache = DynamicCache()
        if state is None:
            past_mask = torch.zeros(batch, 0, dtype=torch.bool, device=device)
            start = torch.zeros(batch, dtype=torch.long, device=device)
        else:
            past_mask, start = state.mask, state.positions
            cache.layers.extend(
                _held_layer(k, v) for k, v in zip(state.keys, state.values, strict=True)
            )
        positions = start[:, None] + torch.arange(time, device=device)[None, :]
        new = torch.ones(batch, time, dtype=torch.bool, device=device)
        return cls(cache, torch.cat([past_mask, new], 1), positions, start)

    def state(self, output) -> KVState:
        """The state after the forward that read this step (`output` carries its cache)."""
        read = [_keys_and_values(layer) for layer in output_cache(output).layers]
        time = self.positions.size(1)
        return KVState(
            [keys for keys, _ in read],
            [values for _, values in read],
            self.mask,
            self.start + time,
        )


class KVStateOperations:
    """The state operations of `generators.models.protocol` for models whose state is a
    `KVState`."""

    @staticmethod
    def select_state(state: KVState, index: torch.Tensor) -> KVState:
        return state.select(index)

    @staticmethod
    def cat_states(states: list[KVState]) -> KVState:
        return KVState.cat(states)

    @staticmethod
    def expand_state(state: KVState, n: int) -> KVState:
        return state.expand(n)


class TransformerLanguageModel(KVStateOperations, nn.Module):
    family = "transformer"
    continuous_cache = SCORING_CACHE
    """Mixed into reading given text (`generators.models.continuous_cache`), not sampling."""

    def __init__(self, config: TransformerConfig):
        super().__init__()
        self.config = config
        hf = config.to_hf()
        hf._attn_implementation = "sdpa"
        self.model = LlamaModel(hf)
        self.model.apply(self._init_weights)
        self._cache_argument = cache_argument(self.model.forward)

    def _init_weights(self, module: nn.Module) -> None:
        if isinstance(module, nn.Linear | nn.Embedding):
            nn.init.normal_(module.weight, std=0.02)

    @property
    def max_positions(self) -> int:
        return self.config.max_positions

    def logits(self, hidden: torch.Tensor) -> torch.Tensor:
        return F.linear(hidden, self.model.embed_tokens.weight)

    def forward(
        self, ids: torch.Tensor, targets: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Training: logits of every position from a fresh context, and the loss if asked."""
        hidden = self.model(input_ids=ids, use_cache=False).last_hidden_state
        logits = self.logits(hidden)
        loss = None
        if targets is not None:
            loss = F.cross_entropy(
                logits.reshape(-1, logits.size(-1)).float(), targets.reshape(-1), ignore_index=-100
            )
        return logits, loss

    def run(
        self, ids: torch.Tensor, state: KVState | None = None, last_only: bool = False
    ) -> tuple[torch.Tensor, KVState]:
        """Read `ids` (batch, time) after `state`; return logits (batch, time, vocab) and the
        state with the new tokens cached. Every row reads `time` real tokens."""
        hidden, new_state = self.read_hidden(ids, state)
        if last_only:
            hidden = hidden[:, -1:]
        return self.logits(hidden), new_state

    def read_hidden(
        self, ids: torch.Tensor, state: KVState | None = None
    ) -> tuple[torch.Tensor, KVState]:
        """`run` without the vocabulary projection: the last layer's hidden states and the new
        state, for a caller that needs the logits of some positions only."""
        step = CacheStep.after(ids, state)
        out = self.model(
            input_ids=ids,
            attention_mask=step.mask.long(),
            position_ids=step.positions,
            use_cache=True,
            **{self._cache_argument: step.cache},
        )
        return out.last_hidden_state, step.state(out)

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())
