"""Negative log-likelihood of plain text under a language model, in bits per character.

Bits per character does not depend on the tokenizer, so models with different vocabularies
compare fairly. Each document is read from a fresh state after `<|endoftext|>` and, when known,
its genre token; only the document's own tokens are scored (not the closing end-of-text token),
and the characters counted are those of the document exactly as given.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

import torch
import torch.nn.functional as F

from generators.models.protocol import LanguageModel
from generators.text.tokenizer import TextTokenizer, genre_token

LN2 = math.log(2.0)


@dataclass
class TextScore:
    nll_nats: float = 0.0
    tokens: int = 0
    characters: int = 0
    documents: int = 0

    @property
    def bits_per_char(self) -> float:
        return self.nll_nats / LN2 / max(self.characters, 1)

    @property
    def perplexity(self) -> float:
        return math.exp(self.nll_nats / max(self.tokens, 1))

    def add(self, other: TextScore) -> None:
        self.nll_nats += other.nll_nats
        self.tokens += other.tokens
        self.characters += other.characters
        self.documents += other.documents

    def as_dict(self) -> dict[str, float | int]:
        return {
            "bits_per_char": self.bits_per_char,
            "perplexity": self.perplexity,
            "nll_nats": self.nll_nats,
            "tokens": self.tokens,
            "characters": self.characters,
            "documents": self.documents,
        }


def condition_ids(tokenizer: TextTokenizer, genre: str | None) -> list[int]:
    ids = [tokenizer.eos_id]
    if genre is not None:
        ids.append(tokenizer.id(genre_token(genre)))
    return ids


@torch.no_grad()
def score_texts(
    model: torch.nn.Module,
    tokenizer: TextTokenizer,
    texts: Sequence[str],
    genres: Sequence[str | None] | None = None,
    batch_size: int = 16,
    autocast: bool = False,
) -> TextScore:
    """Summed NLL of `texts` under an LSTM-family model (`model.run`)."""
    genres = list(genres) if genres is not None else [None] * len(texts)
    items = []
    for text, genre in zip(texts, genres, strict=True):
        prefix = condition_ids(tokenizer, genre)
        ids = tokenizer.encode(text)
        if ids:
            items.append((prefix + ids, len(prefix), len(text)))
    items.sort(key=lambda item: len(item[0]))
    model.eval()
    # An nn.Module to put in eval mode, of a family whose models implement LanguageModel.
    language = cast(LanguageModel, model)
    device = next(model.parameters()).device
    total = TextScore()
    for start in range(0, len(items), batch_size):
        chunk = items[start : start + batch_size]
        width = max(len(ids) for ids, _, _ in chunk)
        inputs = torch.full((len(chunk), width - 1), tokenizer.pad_id, dtype=torch.long)
        targets = torch.full((len(chunk), width - 1), -100, dtype=torch.long)
        for row, (ids, prefix_len, _) in enumerate(chunk):
            seq = torch.tensor(ids, dtype=torch.long)
            inputs[row, : len(ids) - 1] = seq[:-1]
            targets[row, prefix_len - 1 : len(ids) - 1] = seq[prefix_len:]
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=autocast):
            logits, _ = language.run(inputs.to(device))
        nll = F.cross_entropy(
            logits.float().reshape(-1, logits.size(-1)),
            targets.to(device).reshape(-1),
            ignore_index=-100,
            reduction="sum",
        )
        total.add(
            TextScore(
                nll_nats=nll.item(),
                tokens=int((targets != -100).sum()),
                characters=sum(chars for _, _, chars in chunk),
                documents=len(chunk),
            )
        )
    return total
