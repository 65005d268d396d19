"""Byte-level BPE with the control tokens the prompts use.

Byte-level means any Unicode string round-trips exactly. User and corpus text is always encoded
with special-token parsing switched off, so a user who types `<|endoftext|>` gets those
characters, not the control token; control tokens enter a sequence only by id.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

from generators.schemas import GENRES, MOODS

END_OF_TEXT = "<|endoftext|>"
PAD = "<|pad|>"
SPEAKER_START = "<|speaker|>"
SPEAKER_END = "<|/speaker|>"
PREMISE_START = "<|premise|>"
PREMISE_END = "<|/premise|>"
TURN_KINDS: tuple[str, ...] = ("narration", "dialogue", "twist", "poem")


def genre_token(genre: str) -> str:
    return f"<|genre:{genre}|>"


def mood_token(mood: str) -> str:
    return f"<|mood:{mood}|>"


def kind_token(kind: str) -> str:
    return f"<|{kind}|>"


SPECIAL_TOKENS: tuple[str, ...] = (
    END_OF_TEXT,
    PAD,
    SPEAKER_START,
    SPEAKER_END,
    PREMISE_START,
    PREMISE_END,
    *(kind_token(k) for k in TURN_KINDS),
    *(genre_token(g) for g in GENRES),
    *(mood_token(m) for m in MOODS),
)


class TextTokenizer:
    """A trained `tokenizers.Tokenizer` plus the ids of Talewright's control tokens."""

    def __init__(self, tokenizer: Tokenizer):
        missing = [t for t in SPECIAL_TOKENS if tokenizer.token_to_id(t) is None]
        if missing:
            raise ValueError(f"tokenizer lacks control tokens: {', '.join(missing)}")
        tokenizer.encode_special_tokens = True
        self._tok = tokenizer
        self.eos_id: int = self.id(END_OF_TEXT)
        self.pad_id: int = self.id(PAD)
        self.special_ids: frozenset[int] = frozenset(self.id(t) for t in SPECIAL_TOKENS)

    @classmethod
    def train(cls, texts: Iterable[str], vocab_size: int, min_frequency: int = 2) -> TextTokenizer:
        tok = Tokenizer(models.BPE())
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
        tok.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(
            vocab_size=vocab_size,
            min_frequency=min_frequency,
            special_tokens=list(SPECIAL_TOKENS),
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
            show_progress=False,
        )
        tok.train_from_iterator(texts, trainer=trainer)
        return cls(tok)

    @classmethod
    def load(cls, path: Path) -> TextTokenizer:
        return cls(Tokenizer.from_file(str(path)))

    @classmethod
    def from_json(cls, text: str) -> TextTokenizer:
        return cls(Tokenizer.from_str(text))

    def save(self, path: Path) -> None:
        self._tok.save(str(path))

    def to_json(self) -> str:
        return self._tok.to_str()

    @property
    def vocab_size(self) -> int:
        return self._tok.get_vocab_size()

    def id(self, token: str) -> int:
        token_id = self._tok.token_to_id(token)
        if token_id is None:
            raise KeyError(f"unknown token {token!r}")
        return token_id

    def encode(self, text: str) -> list[int]:
        """Plain text to ids; control-token look-alikes in `text` stay plain characters."""
        return self._tok.encode(text, add_special_tokens=False).ids

    def encode_batch(self, texts: list[str]) -> list[list[int]]:
        return [e.ids for e in self._tok.encode_batch(texts, add_special_tokens=False)]

    def decode(self, ids: Iterable[int], skip_special: bool = True) -> str:
        ids = list(ids)
        if skip_special:
            ids = [i for i in ids if i not in self.special_ids]
        return self._tok.decode(ids, skip_special_tokens=False)

    def token_text(self, token_id: int) -> str:
        """The decoded text of one token (used for stop rules and n-gram checks)."""
        return self._tok.decode([token_id], skip_special_tokens=False)
