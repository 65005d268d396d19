"""Any local Hugging Face causal language model, behind the project's `run` contract.

A user may serve a model downloaded elsewhere (a folder with config.json, safetensors weights
and a tokenizer). `AutoModelForCausalLM.from_pretrained` builds it from local files only (never
a download); `run` reads ids after a state and returns logits and the new state, the state
being the same left-padded key/value cache (`KVState`) as the project's own transformer: each
row keeps its own next position and a mask of the slots that hold real tokens, so rows join,
leave and are expanded exactly as the sampler and the service's batch expect.

Only models whose every layer attends to the whole past fit that state: a sliding-window or
recurrent (state-space) model is refused at load with the reason.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn
from transformers import AutoConfig, AutoModelForCausalLM, PreTrainedModel

from generators.errors import CheckpointError
from generators.models.transformer import CacheStep, KVState, KVStateOperations, cache_argument

HF_CONFIG_FILE = "config.json"
_POSITION_KEYS = ("max_position_embeddings", "n_positions", "max_sequence_length", "seq_length")


class ContextOverflow(ValueError):
    """A row would read past the model's last position."""


class HFCausalLanguageModel(KVStateOperations, nn.Module):
    """A `PreTrainedModel` for causal LM, read and stepped like the project's models."""

    family = "huggingface"

    def __init__(self, model: PreTrainedModel, max_positions: int, absolute_positions: bool):
        super().__init__()
        self.model = model
        self._cache_argument = cache_argument(model.forward)
        self._max_positions = max_positions
        self.absolute_positions = absolute_positions
        """Learned position embeddings (GPT-2) cannot read past `max_positions` at all; rotary
        ones (Llama) can, but were never trained there."""

    @property
    def max_positions(self) -> int:
        return self._max_positions

    @property
    def vocab_size(self) -> int:
        head = self.model.get_output_embeddings()
        if head is None:
            raise CheckpointError(f"{type(self.model).__name__} has no output layer to read")
        return int(head.weight.size(0))

    @classmethod
    def from_folder(
        cls, folder: Path | str, max_positions: int | None = None
    ) -> HFCausalLanguageModel:
        """Load `folder` on the CPU in float32; CheckpointError says why a folder cannot serve."""
        folder = Path(folder)
        if not folder.is_dir():
            raise CheckpointError(f"model folder not found: {folder}")
        if not (folder / HF_CONFIG_FILE).is_file():
            raise CheckpointError(
                f"{folder} is not a Hugging Face model folder: it has no {HF_CONFIG_FILE}"
            )
        try:
            config = AutoConfig.from_pretrained(folder, local_files_only=True)
        except (OSError, ValueError, KeyError) as exc:
            raise CheckpointError(f"{folder / HF_CONFIG_FILE} cannot be read: {exc}") from exc
        check_full_attention(folder, config)
        try:
            model = AutoModelForCausalLM.from_pretrained(
                folder, local_files_only=True, dtype=torch.float32
            )
        except ValueError as exc:
            raise CheckpointError(
                f"{folder} does not hold a causal language model: {type(config).__name__} "
                f"({str(exc).splitlines()[0]})"
            ) from exc
        except OSError as exc:
            raise CheckpointError(f"{folder}: the weights cannot be read: {exc}") from exc
        limit = max_positions or configured_positions(config)
        if limit is None:
            raise CheckpointError(
                f"{folder}: the config does not say how many positions the model reads; "
                "set max_positions for this model in the settings"
            )
        absolute = getattr(config, "model_type", "") in ("gpt2", "gpt_neo", "opt", "gpt_bigcode")
        wrapped = cls(model.eval(), int(limit), absolute)
        wrapped.probe(folder)
        return wrapped

    def probe(self, folder: Path) -> None:
        """One two-step read, so a model that keeps no key/value cache fails at load."""
        try:
            with torch.no_grad():
                _, state = self.run(torch.zeros(1, 1, dtype=torch.long))
                self.run(torch.zeros(1, 1, dtype=torch.long), state)
        except (TypeError, AttributeError, RuntimeError) as exc:
            raise CheckpointError(
                f"{folder}: this model cannot be stepped with a key/value cache: {exc}"
            ) from exc

    def run(
        self, ids: torch.Tensor, state: KVState | None = None, last_only: bool = False
    ) -> tuple[torch.Tensor, KVState]:
        """Read `ids` (batch, time) after `state`; return logits (batch, time or 1, vocab) and
        the state with the new tokens cached. Every row reads `time` real tokens."""
        time = ids.size(1)
        step = CacheStep.after(ids, state)
        if self.absolute_positions and int(step.start.max()) + time > self._max_positions:
            raise ContextOverflow(
                f"this model reads at most {self._max_positions} tokens; a row would reach "
                f"{int(step.start.max()) + time}"
            )
        out = self.model(
            input_ids=ids,
            attention_mask=step.mask.long(),
            position_ids=step.positions,
            use_cache=True,
            logits_to_keep=1 if last_only else 0,
            **{self._cache_argument: step.cache},
        )
        return out.logits, step.state(out)

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())


def configured_positions(config) -> int | None:
    for key in _POSITION_KEYS:
        value = getattr(config, key, None)
        if isinstance(value, int) and value > 0:
            return value
    return None


def check_full_attention(folder: Path, config) -> None:
    """Refuse sliding-window layers: their caches keep fewer slots than the state's mask."""
    kinds = set(getattr(config, "layer_types", None) or ())
    window = getattr(config, "sliding_window", None)
    uses_window = getattr(config, "use_sliding_window", window is not None)
    if kinds - {"full_attention"} or (window and uses_window):
        raise CheckpointError(
            f"{folder}: {type(config).__name__} uses sliding-window attention, which this "
            "server's key/value state cannot hold; only full-attention models are served"
        )
