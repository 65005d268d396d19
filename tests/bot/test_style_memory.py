"""Style memory: readable statistics from every accepted turn, and the writer's vector as a
running mean of the sentence vectors the generator's VAE gives, whatever the order of turns,
and never at the cost of a turn when the generator cannot give them."""

from __future__ import annotations

import asyncio

import pytest
from engine_testing import ANN, CHANNEL, GUILD, FakeClock, FakeGenerator, start_story

from bot.discord.render_style import style_text
from bot.story import StoryEngine
from bot.story.style import StoredStyle, text_stats
from generators.errors import GeneratorUnavailable, NoSentenceModel
from generators.schemas import EmbedRequest, EmbedResponse
from generators.text.sentences import split_sentences
from storage.sqlite import SqliteStorage

FIRST = "The sea rose. The ship rolled over the waves."
SECOND = '"Run!" said Marta. She ran.'


class SentenceLengths:
    """A stand-in VAE: each sentence's vector is (characters, words)."""

    def __init__(self, delay_s: float = 0.0, fail: Exception | None = None, width: int = 2):
        self.delay_s = delay_s
        self.fail = fail
        self.width = width
        self.calls = 0

    async def embed(self, request: EmbedRequest) -> EmbedResponse:
        self.calls += 1
        await asyncio.sleep(self.delay_s)
        if self.fail is not None:
            raise self.fail
        vectors = [
            [
                [float(len(s)), float(len(s.split()))][: self.width] + [0.0] * (self.width - 2)
                for s in split_sentences(text)
            ]
            for text in request.texts
        ]
        return EmbedResponse(vectors=vectors, model="lengths", latent_dim=self.width)


def sentence_mean(*texts: str) -> list[float]:
    sentences = [s for text in texts for s in split_sentences(text)]
    return [
        sum(len(s) for s in sentences) / len(sentences),
        sum(len(s.split()) for s in sentences) / len(sentences),
    ]


async def test_the_vector_is_a_running_mean_over_sentences_in_any_order(
    storage: SqliteStorage,
) -> None:
    style = StoredStyle(storage.styles, SentenceLengths())
    await style.observe(ANN, FIRST, "mystery", None)
    await style.observe(ANN, SECOND, "mystery", "Marta")
    await style.observe(2, SECOND, "mystery", "Marta")
    await style.observe(2, FIRST, "mystery", None)
    one, other = await style.vector(ANN), await style.vector(2)
    assert one == pytest.approx(sentence_mean(FIRST, SECOND))
    assert other == pytest.approx(one)
    profile = await storage.styles.get(ANN)
    assert profile is not None and profile.count == len(split_sentences(FIRST + " " + SECOND))


async def test_stats_without_a_vector_when_the_generator_cannot_embed(
    storage: SqliteStorage,
) -> None:
    for embedder in (
        SentenceLengths(fail=GeneratorUnavailable("service down")),
        SentenceLengths(fail=NoSentenceModel("no sentence VAE is loaded")),
        SentenceLengths(delay_s=5.0),
    ):
        style = StoredStyle(storage.styles, embedder, timeout_s=0.2)
        await asyncio.wait_for(style.observe(ANN, FIRST, "mystery", None), 2.0)
    profile = await storage.styles.get(ANN)
    assert profile is not None and profile.stats["turns"] == 3 and profile.count == 0
    assert await StoredStyle(storage.styles).vector(ANN) is None


async def test_a_vector_of_another_size_keeps_the_stats(storage: SqliteStorage) -> None:
    await StoredStyle(storage.styles, SentenceLengths()).observe(ANN, FIRST, "mystery", None)
    wider = StoredStyle(storage.styles, SentenceLengths(width=3))
    await wider.observe(ANN, SECOND, "mystery", None)
    profile = await storage.styles.get(ANN)
    assert profile is not None and profile.stats["turns"] == 2
    assert list(profile.vector) == pytest.approx(sentence_mean(FIRST))


async def test_the_engine_feeds_accepted_turns_to_the_vae(
    storage: SqliteStorage, moderator, clock: FakeClock
) -> None:
    embedder = SentenceLengths()
    engine = StoryEngine(
        storage,
        FakeGenerator(),
        moderator,
        style=StoredStyle(storage.styles, embedder),
        clock=clock,
    )
    await start_story(engine)
    await engine.privacy_style(ANN, GUILD, True, change=True)
    await engine.write(CHANNEL, ANN, "Ann", FIRST)
    view = await engine.style_show(ANN)
    assert view.has_vector and embedder.calls == 1
    assert view.stats["words"] == 9 and view.stats["sentences"] == 2
    await engine.write(CHANNEL, ANN, "Ann", SECOND, character_name=None)
    shown = style_text(await engine.style_show(ANN))
    assert "Style vector: yes." in shown
    assert "Vocabulary: " in shown and "Genres: Fantasy" in shown


def test_readable_statistics_name_vocabulary_and_characters() -> None:
    stats = text_stats({}, "The cat saw the cat.", "children", "Mia")
    stats = text_stats(stats, "A dog ran home.", "children", "Mia")
    stats = text_stats(stats, "Rain.", "mystery", "Rex")
    assert stats["distinct_word_share"] == pytest.approx((0.6 + 1.0 + 1.0) / 3, abs=1e-4)
    assert stats["characters"] == {"Mia": 2, "Rex": 1}
    assert stats["genres"] == {"children": 2, "mystery": 1}
    assert stats["turns"] == 3 and stats["words"] == 10
