"""The hook through which the engine learns how each person writes.

The engine calls `observe` for every accepted human turn and asks `vector` when a story has
style matching on; the vector goes to the generator with `rerank="style"`, so the candidate
closest to the writer's own style wins. A sentence-VAE implementation fills the vectors;
`StoredStyle` below needs no model: it keeps plain statistics and serves whatever vector is
stored, so `/style show` has something to say from the first turn.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Protocol

from storage.repositories import StyleRepository

_SENTENCE_END = re.compile(r"[.!?]+(?:\s|$)")


class StyleMemory(Protocol):
    async def observe(
        self, user_id: int, text: str, genre: str, character_name: str | None
    ) -> None: ...

    async def vector(self, user_id: int) -> list[float] | None: ...


class StoredStyle:
    """Style memory over the style repository alone: statistics in, stored vector out."""

    def __init__(self, styles: StyleRepository) -> None:
        self._styles = styles

    async def observe(
        self, user_id: int, text: str, genre: str, character_name: str | None
    ) -> None:
        def update(stats: dict[str, Any], _count: int) -> Mapping[str, Any]:
            return text_stats(stats, text, genre)

        await self._styles.add_vectors(user_id, [], update)

    async def vector(self, user_id: int) -> list[float] | None:
        profile = await self._styles.get(user_id)
        if profile is None or not profile.count:
            return None
        return list(profile.vector)


def text_stats(stats: Mapping[str, Any], text: str, genre: str) -> dict[str, Any]:
    """Running counts of a writer's turns: words, sentences, dialogue and genres."""
    turns = int(stats.get("turns", 0)) + 1
    words = int(stats.get("words", 0)) + len(text.split())
    sentences = int(stats.get("sentences", 0)) + max(1, len(_SENTENCE_END.findall(text)))
    dialogue = int(stats.get("dialogue_turns", 0)) + (1 if '"' in text or "“" in text else 0)
    genres = dict(stats.get("genres", {}))
    genres[genre] = int(genres.get(genre, 0)) + 1
    return {
        **stats,
        "turns": turns,
        "words": words,
        "sentences": sentences,
        "dialogue_turns": dialogue,
        "words_per_sentence": round(words / sentences, 1),
        "genres": genres,
    }
