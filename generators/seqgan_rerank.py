"""The `discriminator` reranker: candidates ordered by the SeqGAN discriminator's P(real).

The discriminator was trained on single sentences, so a candidate is cut into sentences (each
read as the discriminator saw them: tokens, the end token, padding; longer ones cut to fit) and
scored by the mean of their probabilities of being real. Nothing else enters the score: the
measurement in `generators.seqgan_eval` judges the discriminator alone.
"""

from __future__ import annotations

import torch

from generators.models.seqgan import Discriminator
from generators.pipeline import Reranker
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
