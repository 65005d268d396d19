"""The hook through which the engine learns how each person writes.

The engine calls `observe` for every accepted human turn and asks `vector` when a story has
style matching on; the vector goes to the generator with `rerank="style"`, which adds
candidates that open in the writer's part of the VAE's latent space and prefers, among all, the
fluent ones that lean the way the writer's own style does. `StoredStyle` keeps readable
statistics from the first turn and, given the generator as a `SentenceEmbedder` (one that
serves a sentence VAE), adds the latent mean of every sentence to the writer's vector: a
running mean over all their sentences, so the order turns arrive in does not matter.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Mapping
from typing import Any, Protocol

from generators.client import SentenceEmbedder
from generators.errors import GeneratorError
from generators.schemas import EmbedRequest
from storage.repositories import StyleRepository

log = logging.getLogger("talewright.style")

_SENTENCE_END = re.compile(r"[.!?]+(?:\s|$)")
_WORD = re.compile(r"[^\W\d_]+(?:['\u2019][^\W\d_]+)*")
EMBED_TIMEOUT_S = 3.0
"""A turn's vector is worth little next to the reply: past this, the turn keeps its statistics
and goes without a vector."""


class StyleMemory(Protocol):
    async def observe(
        self, user_id: int, text: str, genre: str, character_name: str | None
    ) -> None: ...

    async def vector(self, user_id: int) -> list[float] | None: ...


class StoredStyle:
    """Style memory over the style repository: statistics always, vectors from `embedder`."""

    def __init__(
        self,
        styles: StyleRepository,
        embedder: SentenceEmbedder | None = None,
        *,
        timeout_s: float = EMBED_TIMEOUT_S,
    ) -> None:
        self._styles = styles
        self._embedder = embedder
        self._timeout_s = timeout_s

    async def observe(
        self, user_id: int, text: str, genre: str, character_name: str | None
    ) -> None:
        def update(stats: dict[str, Any], _count: int) -> Mapping[str, Any]:
            return text_stats(stats, text, genre, character_name)

        vectors = await self._sentence_vectors(text)
        try:
            await self._styles.add_vectors(user_id, vectors, update)
        except ValueError as exc:  # a profile made by a VAE of another size
            log.warning("style vector of user %s not updated: %s", user_id, exc)
            await self._styles.add_vectors(user_id, [], update)

    async def vector(self, user_id: int) -> list[float] | None:
        profile = await self._styles.get(user_id)
        if profile is None or not profile.count:
            return None
        return list(profile.vector)

    async def _sentence_vectors(self, text: str) -> list[list[float]]:
        if self._embedder is None:
            return []
        try:
            response = await asyncio.wait_for(
                self._embedder.embed(EmbedRequest(texts=[text])), self._timeout_s
            )
        except (GeneratorError, TimeoutError) as exc:
            log.info("no style vector for this turn: %s", exc or type(exc).__name__)
            return []
        return response.vectors[0]


def text_stats(
    stats: Mapping[str, Any], text: str, genre: str, character_name: str | None = None
) -> dict[str, Any]:
    """Running counts of a writer's turns: words, sentences, dialogue, vocabulary, genres and
    the characters they write as. Vocabulary richness is the mean share of distinct words per
    turn (a share over all turns would need every word ever written)."""
    turns = int(stats.get("turns", 0)) + 1
    words_here = [word.casefold() for word in _WORD.findall(text)]
    words = int(stats.get("words", 0)) + len(text.split())
    sentences = int(stats.get("sentences", 0)) + max(1, len(_SENTENCE_END.findall(text)))
    dialogue = int(stats.get("dialogue_turns", 0)) + (1 if '"' in text or "“" in text else 0)
    distinct_here = len(set(words_here)) / len(words_here) if words_here else 0.0
    distinct = float(stats.get("distinct_word_share", 0.0))
    distinct += (distinct_here - distinct) / turns
    genres = dict(stats.get("genres", {}))
    genres[genre] = int(genres.get(genre, 0)) + 1
    characters = dict(stats.get("characters", {}))
    if character_name:
        characters[character_name] = int(characters.get(character_name, 0)) + 1
    return {
        **stats,
        "turns": turns,
        "words": words,
        "sentences": sentences,
        "dialogue_turns": dialogue,
        "words_per_sentence": round(words / sentences, 1),
        "distinct_word_share": round(distinct, 4),
        "genres": genres,
        "characters": characters,
    }
