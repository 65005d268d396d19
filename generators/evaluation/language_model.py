"""Evaluation: bits per character on text, and variety and control metrics on samples.

- bits per character: summed token NLL / characters, in bits (tokenizer-independent).
- distinct-n: unique word n-grams / all word n-grams across samples (higher = more varied).
- self-BLEU-4: BLEU of each sample against the others (lower = more varied).
- seq-rep-4: per sample, the share of its word 4-grams that repeat an earlier one (Welleck et
  al. 2019), averaged (lower = less looping).
- control accuracy: the share of samples whose genre (naive Bayes classifier) or mood (the
  lexicon that labelled the training data) matches what was requested.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from generators.checkpoint import load_checkpoint
from generators.errors import CheckpointError
from generators.evaluation.bits_per_char import score_texts
from generators.schemas import GENRES, MOODS, GenerateRequest
from generators.text.bleu import self_bleu
from generators.text.bleu import words as bleu_words
from generators.text.genre_classifier import GenreClassifier
from generators.text.genre_classifier import words as plain_words
from generators.text.mood import mood_of
from generators.text.normalize import split_documents


def evaluate_checkpoint_on_text(
    checkpoint: Path, text_file: Path, genre: str | None = None
) -> dict[str, Any]:
    """Bits per character of a plain UTF-8 file (documents separated by blank lines)."""
    if genre is not None and genre not in GENRES:
        raise ValueError(f"unknown genre {genre!r}; expected one of {', '.join(GENRES)}")
    try:
        text = text_file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{text_file} is not UTF-8 text: {exc}") from exc
    documents = split_documents(text)
    if not documents:
        raise ValueError(f"{text_file} holds no text")
    try:
        loaded = load_checkpoint(checkpoint)
    except CheckpointError as exc:
        raise ValueError(str(exc)) from exc
    if loaded.family != "lstm":
        raise ValueError(
            f"bits per character needs a language model; {checkpoint} is {loaded.family}"
        )
    score = score_texts(loaded.model, loaded.tokenizer, documents, [genre] * len(documents))
    return {"model": loaded.model_id, "genre": genre, **score.as_dict()}


def distinct_n(texts: Sequence[str], n: int) -> float:
    grams: Counter[tuple[str, ...]] = Counter()
    for text in texts:
        tokens = plain_words(text)
        grams.update(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
    total = sum(grams.values())
    return len(grams) / total if total else 0.0


def seq_rep_n(texts: Sequence[str], n: int = 4) -> float:
    rates = []
    for text in texts:
        tokens = plain_words(text)
        grams = [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]
        if grams:
            rates.append(1.0 - len(set(grams)) / len(grams))
    return sum(rates) / len(rates) if rates else 0.0


def variety_metrics(texts: Sequence[str]) -> dict[str, float]:
    texts = [t for t in texts if t.strip()]
    tokenized = [bleu_words(t) for t in texts]
    return {
        "samples": len(texts),
        "distinct_1": distinct_n(texts, 1),
        "distinct_2": distinct_n(texts, 2),
        "distinct_3": distinct_n(texts, 3),
        "self_bleu_4": self_bleu(tokenized) if len(tokenized) > 1 else 0.0,
        "seq_rep_4": seq_rep_n(texts, 4),
        "mean_words": sum(len(plain_words(t)) for t in texts) / max(len(texts), 1),
    }


def generate_samples(
    checkpoint: Path, per_condition: int = 8, seed: int = 0, max_tokens: int = 80
) -> list[dict[str, Any]]:
    """Openings for every genre x mood at default sampling settings (one candidate each)."""
    from generators.client import InProcessGenerator

    generator = InProcessGenerator.from_checkpoints([checkpoint], max_regenerations=0)
    samples = []

    async def run() -> None:
        for genre in GENRES:
            for mood in MOODS:
                for _ in range(per_condition):
                    request = GenerateRequest.model_validate(
                        {
                            "kind": "opening",
                            "context": {"genre": genre, "mood": mood},
                            "params": {
                                "max_tokens": max_tokens,
                                "min_tokens": 20,
                                "n": 1,
                                "seed": seed + len(samples),
                            },
                        }
                    )
                    response = await generator.generate(request)
                    samples.append({"genre": genre, "mood": mood, "text": response.text})

    asyncio.run(run())
    return samples


def control_accuracy(
    samples: Sequence[dict[str, Any]], classifier: GenreClassifier | None
) -> dict[str, float]:
    result: dict[str, float] = {}
    if classifier is not None:
        hits = [classifier.predict(s["text"]) == s["genre"] for s in samples]
        result["genre_control_accuracy"] = sum(hits) / max(len(hits), 1)
        result["genre_chance"] = 1 / len({s["genre"] for s in samples})
    mood_hits = [mood_of(s["text"]) == s["mood"] for s in samples]
    result["mood_control_accuracy"] = sum(mood_hits) / max(len(mood_hits), 1)
    result["mood_chance"] = 1 / len({s["mood"] for s in samples})
    return result


def train_genre_classifier(data_dir: Path) -> GenreClassifier:
    from generators.text.corpus import iter_raw_documents, split_of

    labelled = [
        (text, genre)
        for text, genre, _ in iter_raw_documents(data_dir)
        if split_of(text) == "train"
    ]
    return GenreClassifier.train(labelled)


def evaluate_samples(
    checkpoint: Path, per_condition: int = 4, data_dir: Path | None = None, seed: int = 0
) -> dict[str, Any]:
    samples = generate_samples(checkpoint, per_condition, seed)
    classifier = None
    if data_dir is not None and (data_dir / "tinystories").is_dir():
        classifier = train_genre_classifier(data_dir)
    return {
        **variety_metrics([s["text"] for s in samples]),
        **control_accuracy(samples, classifier),
    }
