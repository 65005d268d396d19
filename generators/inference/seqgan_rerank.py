"""The `discriminator` reranker: candidates ordered by the SeqGAN discriminator's P(real).

The discriminator was trained on single sentences, so a candidate is cut into sentences (each
read as the discriminator saw them: tokens, the end token, padding; longer ones cut to fit) and
scored by the mean of their probabilities of being real. Nothing else enters the score: the
measurement in `generators.evaluation.seqgan` judges the discriminator alone.
"""

from __future__ import annotations

import threading

import torch

from generators.errors import NoDiscriminator
from generators.inference.pipeline import Reranker
from generators.inference.registry import ModelRegistry, ServedModel
from generators.models.seqgan import Discriminator
from generators.schemas import Candidate, GenerateRequest
from generators.text.sentences import split_sentences
from generators.text.tokenizer import TextTokenizer


def discriminator_rows(
    discriminator: Discriminator, tokenizer: TextTokenizer, texts: list[str]
) -> tuple[torch.Tensor, list[int]]:
    """Padded sentence rows for the discriminator, and which text each row came from."""
    cfg = discriminator.config
    end = cfg.end_id if cfg.end_id is not None else tokenizer.eos_id
    body = cfg.seq_len - 1
    rows, owners = [], []
    for owner, text in enumerate(texts):
        for sentence in split_sentences(text) or [text]:
            ids = [*tokenizer.encode(sentence)[:body], end]
            rows.append(ids + [cfg.pad_id] * (cfg.seq_len - len(ids)))
            owners.append(owner)
    return torch.tensor(rows, dtype=torch.long).view(-1, cfg.seq_len), owners


def score_texts(
    discriminator: Discriminator, tokenizer: TextTokenizer, texts: list[str]
) -> list[float]:
    """Mean P(real) over each text's sentences (0.0 for a text with no tokens)."""
    rows, owners = discriminator_rows(discriminator, tokenizer, texts)
    if not owners:
        return [0.0] * len(texts)
    device = next(discriminator.parameters()).device
    probs = discriminator.prob_real(rows.to(device)).cpu()
    index = torch.tensor(owners)
    totals = torch.zeros(len(texts)).index_add_(0, index, probs.float())
    counts = torch.zeros(len(texts)).index_add_(0, index, torch.ones(len(owners)))
    return (totals / counts.clamp_min(1.0)).tolist()


def discriminator_reranker(discriminator: Discriminator, tokenizer: TextTokenizer) -> Reranker:
    """The reranker named `discriminator` in `GenerationParams.rerank`: P(real), higher first."""
    discriminator.eval()

    def rerank(request: GenerateRequest, candidates: list[Candidate]) -> list[float]:
        return score_texts(discriminator, tokenizer, [c.text for c in candidates])

    return rerank


class DiscriminatorRerankers:
    """`rerank="discriminator"` for each served model: the discriminator saved with it (a SeqGAN
    checkpoint), or else that of another loaded checkpoint reading the very same tokenizer (the
    SeqGAN sentence model shares the default model's), so the main model's candidates can be
    judged too. Without one the request is refused before any generation, not silently
    reranked some other way."""

    def __init__(self, registry: ModelRegistry):
        self.registry = registry
        self._lock = threading.Lock()
        self._found: dict[str, Reranker | None] = {}

    def check(self, request: GenerateRequest, served: ServedModel) -> None:
        """Refuse (NoDiscriminator) a request that asks for a reranker it cannot have; called
        before any generation."""
        if request.params.rerank == "discriminator":
            self.require(served)

    def rerankers(self, request: GenerateRequest, served: ServedModel) -> dict[str, Reranker]:
        """`{"discriminator": ...}` when the request asks for it; raises NoDiscriminator when
        it cannot be served."""
        if request.params.rerank != "discriminator":
            return {}
        return {"discriminator": self.require(served)}

    def require(self, served: ServedModel) -> Reranker:
        with self._lock:
            if served.id not in self._found:
                self._found[served.id] = self._find(served)
            found = self._found[served.id]
        if found is None:
            raise NoDiscriminator(
                f"rerank 'discriminator' needs a SeqGAN checkpoint loaded beside model "
                f"{served.id!r} with the same tokenizer; none is"
            )
        return found

    def _find(self, served: ServedModel) -> Reranker | None:
        own = served.checkpoint.extras.get("discriminator")
        if isinstance(own, Discriminator):
            return discriminator_reranker(own, served.tokenizer)
        wanted = served.tokenizer.to_json()
        for other in self.registry.models.values():
            theirs = other.checkpoint.extras.get("discriminator")
            if isinstance(theirs, Discriminator) and other.tokenizer.to_json() == wanted:
                return discriminator_reranker(theirs, served.tokenizer)
        return None
