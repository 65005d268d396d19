"""Trigger pairs: counted from documents, read as a lift, saved and loaded."""

from __future__ import annotations

import pytest
from topic_documents import FISHING, PARK, words_of

import generators.retrieval.triggers as triggers_module
from generators.retrieval.triggers import TriggerPairs, count_triggers


@pytest.fixture(scope="module")
def pairs() -> TriggerPairs:
    return count_triggers([FISHING] * 8 + [PARK] * 8)


def test_a_story_lifts_the_words_its_next_sentences_bring(pairs):
    fishing_story = words_of("Tom took his rod to the lake. He sat in the boat.")
    assert pairs.lift(fishing_story, ["fish", "shiny"]) > 0.2
    assert pairs.lift(fishing_story, ["fish"]) > pairs.lift(fishing_story, ["higher"])
    park_story = words_of("Ann ran to the park. She sat on the swing.")
    assert pairs.lift(park_story, ["higher"]) > pairs.lift(park_story, ["fish"])


def test_words_the_counts_do_not_know_lift_nothing(pairs):
    assert pairs.lift(["dragon", "castle"], ["fish"]) == 0.0
    assert pairs.lift(words_of("Tom took his rod to the lake."), ["dragon"]) == 0.0
    assert pairs.lift([], ["fish"]) == 0.0


def test_pairs_seen_too_rarely_read_as_independent(monkeypatch):
    """Three fishing stories against a minimum of five: the pair "rod" -> "fish" is not
    stored, and reads as no lift rather than as a pair never seen."""
    monkeypatch.setattr(triggers_module, "MIN_WORD_COUNT", 1)
    rare = count_triggers([FISHING] * 3 + [PARK] * 8)
    assert rare.lift(["rod"], ["fish"]) == pytest.approx(0.0)
    monkeypatch.setattr(triggers_module, "MIN_PAIR_COUNT", 1)
    kept = count_triggers([FISHING] * 3 + [PARK] * 8)
    assert kept.lift(["rod"], ["fish"]) > 0.1


def test_one_story_reads_many_texts_alike(pairs):
    story = words_of("Tom took his rod to the lake. He sat in the boat.")
    under = pairs.under(story)
    for text in (["fish"], ["higher", "swing"], ["boat", "fish", "lake"], []):
        assert under(text) == pytest.approx(pairs.lift(story, text))


def test_the_pairs_round_trip_through_a_file(pairs, tmp_path):
    pairs.save(tmp_path / "pairs.npz")
    words = sorted(pairs.vocabulary, key=pairs.vocabulary.__getitem__)
    loaded = TriggerPairs.load(tmp_path / "pairs.npz", words)
    assert loaded.examples == pairs.examples
    assert (loaded.pairs != pairs.pairs).nnz == 0
    story = words_of("Ann ran to the park. She sat on the swing.")
    assert loaded.lift(story, ["higher"]) == pytest.approx(pairs.lift(story, ["higher"]))
