"""A Hugging Face model folder's own tokenizer, with the interface the sampler uses.

`TextTokenizer` is the project's byte-level BPE with Talewright's control tokens; a model a user
brings has its own vocabulary and none of those tokens, so its prompts are plain prose
(`template = "plain"`, see generators.inference.plain_prompt). Everything the sampler, the stop
rules and the name bias read (encode, decode, eos_id, pad_id, special_ids, token_text, vocab_size)
means the same here. User text is encoded without special-token parsing, as in TextTokenizer.

The model's output layer may be wider than the tokenizer (vocabularies padded to a multiple of
64): `vocab_size` is the model's width and the ids past the tokenizer's last one count as
special, so they are never sampled.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import cast

from transformers import AutoTokenizer, PreTrainedTokenizerBase

from generators.errors import CheckpointError


def _token_id(value: object, what: str) -> int | None:
    """One of the tokenizer's special token ids (None when it has no such token); ValueError
    naming the token when the tokenizer gives something else than one id."""
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise ValueError(f"the tokenizer's {what} is {value!r}, not one token id")


class HFTokenizer:
    template = "plain"
    """Which prompt builder serves this vocabulary (generators.inference.prompts.build_prompt)."""

    def __init__(self, tokenizer: PreTrainedTokenizerBase, vocab_size: int):
        known = len(tokenizer)
        if known > vocab_size:
            raise ValueError(
                f"the tokenizer has {known} tokens but the model reads only {vocab_size}: "
                "they do not belong together"
            )
        eos = _token_id(tokenizer.eos_token_id, "end-of-text token (eos_token)")
        if eos is None:
            raise ValueError("the tokenizer names no end-of-text token (eos_token)")
        self._tok = tokenizer
        self.eos_id: int = eos
        pad = _token_id(tokenizer.pad_token_id, "padding token (pad_token)")
        self.pad_id: int = pad if pad is not None else eos
        bos = _token_id(tokenizer.bos_token_id, "beginning-of-text token (bos_token)")
        self.start_ids: list[int] = [bos if bos is not None else eos]
        """What a prompt starts with: the beginning-of-text token, else end-of-text (GPT-2's
        document separator)."""
        self._size = vocab_size
        self.special_ids: frozenset[int] = frozenset(
            {*map(int, tokenizer.all_special_ids), *range(known, vocab_size)}
        )
        self._texts = tokenizer.batch_decode(
            [[i] for i in range(known)],
            skip_special_tokens=False,
            clean_up_tokenization_spaces=False,
        )

    @classmethod
    def from_folder(cls, folder: Path | str, vocab_size: int) -> HFTokenizer:
        """The folder's tokenizer (local files only); CheckpointError says why it cannot serve."""
        try:
            tokenizer = AutoTokenizer.from_pretrained(Path(folder), local_files_only=True)
        except (OSError, ValueError, TypeError) as exc:
            raise CheckpointError(f"{folder}: the tokenizer cannot be loaded: {exc}") from exc
        try:
            return cls(tokenizer, vocab_size)
        except ValueError as exc:
            raise CheckpointError(f"{folder}: {exc}") from exc

    @property
    def vocab_size(self) -> int:
        return self._size

    def id(self, token: str) -> int:
        token_id = self._tok.convert_tokens_to_ids(token)
        unknown = self._tok.unk_token_id
        if not isinstance(token_id, int) or (token_id == unknown and token != self._tok.unk_token):
            raise KeyError(f"unknown token {token!r}")
        return token_id

    def encode(self, text: str) -> list[int]:
        """Plain text to ids, without the tokenizer's own start/end tokens and with
        special-token look-alikes left as plain characters."""
        return self._encode([text])[0]

    def encode_batch(self, texts: list[str]) -> list[list[int]]:
        return self._encode(texts)

    def _encode(self, texts: list[str]) -> list[list[int]]:
        if not texts:
            return []
        return self._tok(
            texts, add_special_tokens=False, split_special_tokens=True, return_attention_mask=False
        )["input_ids"]

    def decode(self, ids: Iterable[int], skip_special: bool = True) -> str:
        ids = [i for i in ids if not (skip_special and i in self.special_ids)]
        text = self._tok.decode(ids, skip_special_tokens=False, clean_up_tokenization_spaces=False)
        # One sequence of ids decodes to one string (a list of strings is for a batch).
        return cast(str, text)

    def token_text(self, token_id: int) -> str:
        """The decoded text of one token (used for stop rules and n-gram checks)."""
        return self._texts[token_id] if token_id < len(self._texts) else ""

    def to_json(self) -> str:
        """The tokenizer's definition, compared by the features that need the same vocabulary
        as another model (VAE twists and style leads, the SeqGAN reranker)."""
        backend = getattr(self._tok, "backend_tokenizer", None)
        if backend is not None:
            return backend.to_str()
        return repr(sorted(self._tok.get_vocab().items()))
