"""The topic encoder: trained from documents, read as a fit, saved and loaded."""

from __future__ import annotations

import numpy as np
import pytest
from topic_documents import FISHING, PARK, document, words_of

import generators.retrieval.topics as topics_module
from generators.retrieval.topics import TopicEncoder, train_topic_encoder


@pytest.fixture(scope="module")
def encoder() -> TopicEncoder:
    return train_topic_encoder([FISHING] * 8 + [PARK] * 8)


def test_a_story_fits_the_words_its_next_sentences_bring(encoder):
    fishing = encoder.under(words_of("Tom took his rod to the lake. He sat in the boat."))
    park = encoder.under(words_of("Ann ran to the park. She sat on the swing."))
    assert fishing(["caught", "fish"]) > 0.5
    assert fishing(["caught", "fish"]) > fishing(["higher"]) + 0.5
    assert park(["higher"]) > park(["caught", "fish"]) + 0.5


def test_untrained_vectors_tell_the_topics_apart_no_better(monkeypatch):
    """The fit is learnt: with no batches trained, fishing's words do not win."""
    monkeypatch.setattr(topics_module, "MIN_STEPS", 0)
    monkeypatch.setattr(topics_module, "EPOCHS", 0)
    untrained = train_topic_encoder([FISHING] * 8 + [PARK] * 8)
    fishing = untrained.under(words_of("Tom took his rod to the lake. He sat in the boat."))
    assert abs(fishing(["caught", "fish"]) - fishing(["higher"])) < 0.5


def test_words_without_vectors_fit_nothing(encoder):
    assert encoder.under(["dragon", "castle"])(["fish"]) == 0.0
    assert encoder.under(words_of("Tom took his rod to the lake."))(["dragon"]) == 0.0
    assert encoder.under([])(["fish"]) == 0.0


def test_the_same_documents_and_seed_give_the_same_vectors(encoder):
    again = train_topic_encoder([FISHING] * 8 + [PARK] * 8)
    assert again.vocabulary == encoder.vocabulary
    assert np.array_equal(again.story, encoder.story)
    assert np.array_equal(again.following, encoder.following)


def test_a_corpus_with_no_examples_gives_an_encoder_that_fits_nothing():
    empty = train_topic_encoder([document("A lone sentence about a lake.")])
    assert empty.vocabulary == {}
    assert empty.under(["lake"])(["lake"]) == 0.0


def test_the_encoder_round_trips_through_a_file(encoder, tmp_path):
    encoder.save(tmp_path / "topics.npz")
    loaded = TopicEncoder.load(tmp_path / "topics.npz", encoder.words())
    assert loaded.vocabulary == encoder.vocabulary
    story = words_of("Ann ran to the park. She sat on the swing.")
    for text in (["higher"], ["caught", "fish"], ["boat", "lake"]):
        assert loaded.under(story)(text) == pytest.approx(encoder.under(story)(text), abs=2e-3)
