"""The corpus loader on the real corpus in ../shared/data (skipped, with its reason, where the
folder is absent). Only the poetry books are normalized in full: the whole corpus takes
minutes; every genre folder is still read."""

from __future__ import annotations

from collections import Counter

import pytest
from tinydata import SHARED_DATA

from generators.schemas import MOODS
from generators.text.corpus import MIN_DOCUMENT_CHARS, build_corpus, iter_raw_documents

pytestmark = pytest.mark.corpus


def test_every_genre_folder_yields_documents() -> None:
    folders = {path.name for path in (SHARED_DATA / "gutenberg").iterdir() if path.is_dir()}
    counts = Counter(genre for _, genre, _ in iter_raw_documents(SHARED_DATA))
    assert set(counts) == folders | {"children"}
    assert counts["children"] > 1000
    assert all(count >= 50 for count in counts.values()), counts


def test_documents_genres_and_splits_look_sane() -> None:
    documents, report = build_corpus(SHARED_DATA, genres=["poetry"])
    assert report.documents == len(documents) > 100
    assert {document.genre for document in documents} == {"poetry"}
    assert all(len(document.text) >= MIN_DOCUMENT_CHARS for document in documents)
    assert all(document.source.startswith("gutenberg/poetry/") for document in documents)
    assert {document.mood for document in documents} <= set(MOODS)
    assert len({document.text for document in documents}) == len(documents)
    validation = report.by_split.get("validation", 0) / report.documents
    assert 0.01 < validation < 0.12, report.by_split  # the default share is 5%
    again, _ = build_corpus(SHARED_DATA, genres=["poetry"])
    assert [d.split for d in again] == [d.split for d in documents]
