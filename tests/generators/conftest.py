"""Fixtures for the generator tests beyond the shared ones in tests/conftest.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from tiny_transformer import train_tiny_transformer


@pytest.fixture(scope="session")
def tiny_transformer(tiny_checkpoint, tiny_corpus_dir, tmp_path_factory) -> Path:
    """A tiny trained transformer checkpoint reading the tiny LSTM's tokenizer."""
    out = tmp_path_factory.mktemp("tinytransformer")
    return train_tiny_transformer(tiny_checkpoint, tiny_corpus_dir, out)
