"""Writing style: latent vectors from the sentence VAE, plain text statistics, and a reranker.

A text's style vector is the mean posterior mean of its sentences, so a writer's profile can be
kept as a running mean of turn vectors (weighted by sentence count) by storage; this module only
computes vectors and statistics. The reranker prefers candidates whose vector leans the way the
request's `style_vector` does, while keeping the language model's fluency in the score.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from pathlib import Path

import torch

from generators.checkpoint import LoadedCheckpoint, load_checkpoint
from generators.inference.pipeline import Reranker
from generators.models.vae import SentenceVAE
from generators.schemas import Candidate, GenerateRequest
from generators.text.sentences import split_sentences

STYLE_WEIGHT = 2.0
"""Style reranker mix: score = mean token log-prob (nats) + STYLE_WEIGHT * style lean, where the
lean is how far the candidate's latent reaches along the writer's style vector (see
`style_lean`). Chosen on the validation split with bench/vae_targets.py (`--style-weights`, 120
trials, 8 model candidates + 8 style-led ones each, the bundled VAE): the right writer's share
was 73%, 78%, 81% and 86% at weights 0.5, 1, 2 and 4 (50% unranked), at a chosen candidate's
mean log-prob of -2.15, -2.27, -2.43 and -2.70 (the unranked first candidate: -2.48). At 2 the
chosen text is still as fluent as an unranked one; at 4 it is not."""

_WORD = re.compile(r"[A-Za-z0-9]+(?:['\u2019][A-Za-z]+)*")


class StyleEncoder:
    """Posterior means of the sentence VAE for any text (deterministic: no sampling)."""

    def __init__(self, vae_checkpoint: Path | str | LoadedCheckpoint, device: str = "cpu"):
        loaded = (
            vae_checkpoint
            if isinstance(vae_checkpoint, LoadedCheckpoint)
            else load_checkpoint(vae_checkpoint, device=device)
        )
        if loaded.family != "vae":
            raise ValueError(f"{loaded.path} is a {loaded.family} checkpoint, not a sentence VAE")
        self.checkpoint = loaded
        self.model = loaded.model_as(SentenceVAE).eval()
        self.tokenizer = loaded.tokenizer

    @property
    def latent_dim(self) -> int:
        return self.model.config.latent_dim

    @torch.no_grad()
    def sentence_vectors(self, sentences: Sequence[str]) -> torch.Tensor:
        """(len(sentences), latent) posterior means; sentences longer than the model's limit are
        read up to it."""
        limit = self.model.config.max_tokens
        ids = [self.tokenizer.encode(s)[:limit] for s in sentences]
        if any(not row for row in ids):
            raise ValueError("cannot encode an empty sentence")
        out = []
        device = self.model.embedding.weight.device
        for start in range(0, len(ids), 256):
            chunk = ids[start : start + 256]
            width = max(len(row) for row in chunk)
            batch = torch.full((len(chunk), width), self.tokenizer.pad_id, dtype=torch.long)
            for i, row in enumerate(chunk):
                batch[i, : len(row)] = torch.tensor(row)
            lengths = torch.tensor([len(row) for row in chunk])
            mu, _ = self.model.encode(batch.to(device), lengths)
            out.append(mu.float().cpu())
        return torch.cat(out) if out else torch.zeros(0, self.latent_dim)

    def encode(self, texts: Sequence[str]) -> list[list[float]]:
        """One vector per text: the mean of its sentences' posterior means.

        Raises ValueError for a text with nothing to read (empty or whitespace only).
        """
        per_text = [split_sentences(t) for t in texts]
        for text, sentences in zip(texts, per_text, strict=True):
            if not sentences:
                raise ValueError(f"no sentence to encode in {text!r}")
        flat = [s for sentences in per_text for s in sentences]
        vectors = self.sentence_vectors(flat)
        result, start = [], 0
        for sentences in per_text:
            result.append(vectors[start : start + len(sentences)].mean(dim=0).tolist())
            start += len(sentences)
        return result


def text_stats(text: str) -> dict[str, float]:
    """Surface style of a text, with the raw counts a running mean needs.

    avg_sentence_words: words per sentence; dialogue_share: share of characters inside double
    quotes (straight or typographic; a quote left open ends with its paragraph);
    type_token_ratio: distinct words / words, case-folded.
    """
    sentences = split_sentences(text)
    words = [w.casefold() for w in _WORD.findall(text)]
    quoted = _quoted_characters(text)
    characters = len(text.strip())
    return {
        "sentences": float(len(sentences)),
        "words": float(len(words)),
        "characters": float(characters),
        "quoted_characters": float(quoted),
        "distinct_words": float(len(set(words))),
        "avg_sentence_words": len(words) / len(sentences) if sentences else 0.0,
        "dialogue_share": quoted / characters if characters else 0.0,
        "type_token_ratio": len(set(words)) / len(words) if words else 0.0,
    }


def _quoted_characters(text: str) -> int:
    count = 0
    for paragraph in re.split(r"\n\s*\n|\n", text):
        inside = False
        for char in paragraph:
            if char == '"':
                inside = not inside
            elif char == "\u201c":
                inside = True
            elif char == "\u201d":
                inside = False
            elif inside:
                count += 1
    return count


def latent_distance(a: Sequence[float], b: Sequence[float]) -> float:
    return math.dist(a, b)


def style_lean(latent: Sequence[float], style_vector: Sequence[float]) -> float:
    """How far `latent` reaches in the direction of `style_vector`, in prior standard deviations.

    A writer's style vector is a mean over many sentences, so it lies close to the prior's mean
    (the average sentence, at the origin) and its direction is what sets the writer apart. A
    single sentence's latent is far noisier, so distance to the style vector mostly rewards
    bland sentences near the origin; the projection rewards sentences that differ from the
    average the way this writer does. 0 for a zero style vector."""
    norm = math.sqrt(sum(v * v for v in style_vector))
    if norm == 0.0:
        return 0.0
    return sum(a * b for a, b in zip(latent, style_vector, strict=True)) / norm


def style_reranker(encoder: StyleEncoder, weight: float = STYLE_WEIGHT) -> Reranker:
    """The `style` reranker: fluency plus `weight` times each candidate's lean towards
    `request.context.style_vector` (see STYLE_WEIGHT). Candidates without a latent get one
    (it is kept on the candidate, so responses carry it). Without a style vector of the right
    size the scores are the candidates' own (mean log-probability), unchanged."""

    def rerank(request: GenerateRequest, candidates: list[Candidate]) -> list[float]:
        target = request.context.style_vector
        if target is None or len(target) != encoder.latent_dim:
            return [c.score for c in candidates]
        missing = [c.text for c in candidates if c.latent is None]
        fresh = iter(encoder.encode(missing) if missing else [])
        scores = []
        for candidate in candidates:
            if candidate.latent is None:
                candidate.latent = [round(v, 5) for v in next(fresh)]
            scores.append(candidate.score + weight * style_lean(candidate.latent, target))
        return scores

    return rerank
