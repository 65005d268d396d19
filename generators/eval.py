"""Evaluation: bits per character on text, and variety/control metrics on samples."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from generators.checkpoint import load_checkpoint
from generators.errors import CheckpointError
from generators.schemas import GENRES
from generators.scoring import score_texts
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
    if loaded.family not in ("lstm",):
        raise ValueError(f"bits per character needs a language model; {checkpoint} is {loaded.family}")
    score = score_texts(loaded.model, loaded.tokenizer, documents, [genre] * len(documents))
    return {"model": loaded.model_id, "genre": genre, **score.as_dict()}
