"""Fixtures shared by every test package: a tiny corpus and a tiny trained checkpoint."""

from __future__ import annotations

import copy
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent / "storage"))

# The session PostgreSQL server (tests/storage/pg_server.py), for any test that asks for it.
from pg_server import pg_server  # noqa: F401
from tinydata import SHARED_DATA, TINY_CONFIG, write_tiny_corpus

# Generators built with the default passage index would serve differently on a machine where
# someone built it: tests that want retrieval build their own (tests/generators/test_retrieval).
os.environ["TALEWRIGHT_RETRIEVAL_INDEX"] = ""


@pytest.fixture(scope="session")
def tiny_corpus_dir(tmp_path_factory) -> Path:
    return write_tiny_corpus(tmp_path_factory.mktemp("tinycorpus"))


@pytest.fixture(scope="session")
def tiny_run(tiny_corpus_dir, tmp_path_factory) -> Path:
    """A tiny LSTM trained through the real entry point; returns the run folder."""
    from generators.train.lstm import train_lstm

    out = tmp_path_factory.mktemp("tinyrun")
    train_lstm(copy.deepcopy(TINY_CONFIG), out, tiny_corpus_dir, resume=False)
    return out


@pytest.fixture(scope="session")
def tiny_checkpoint(tiny_run) -> Path:
    return tiny_run / "best"


CORPUS_ABSENT = f"corpus: {SHARED_DATA} is absent (CI has it)"


def corpus_present() -> bool:
    return (SHARED_DATA / "tinystories" / "stories.txt").exists()


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Tests marked `corpus` read ../shared/data: without it they skip, with one line why."""
    if item.get_closest_marker("corpus") and not corpus_present():
        pytest.skip(CORPUS_ABSENT)


@pytest.fixture
def shared_data() -> Path:
    if not corpus_present():
        pytest.skip(CORPUS_ABSENT)
    return SHARED_DATA
