"""The `corpus` marker (pyproject.toml) skips a test, with a one-line reason, where
../shared/data is absent, and lets it run where the corpus is there."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest


@pytest.fixture
def conftest() -> ModuleType:
    """The top-level tests/conftest.py, loaded by path: `import conftest` means whichever
    package's conftest pytest imported last when the whole suite runs."""
    spec = importlib.util.spec_from_file_location(
        "talewright_top_conftest", Path(__file__).parent / "conftest.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Marked:
    def get_closest_marker(self, name: str) -> object | None:
        return object() if name == "corpus" else None


def test_a_marked_test_skips_with_its_reason_without_the_corpus(
    conftest: ModuleType, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(conftest, "SHARED_DATA", tmp_path / "absent")
    monkeypatch.setattr(conftest, "CORPUS_ABSENT", f"corpus: {tmp_path / 'absent'} is absent")
    with pytest.raises(pytest.skip.Exception, match="is absent"):
        conftest.pytest_runtest_setup(Marked())


def test_a_marked_test_runs_with_the_corpus(
    conftest: ModuleType, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "tinystories").mkdir()
    (tmp_path / "tinystories" / "stories.txt").write_text("Once.\n<|endoftext|>\n")
    monkeypatch.setattr(conftest, "SHARED_DATA", tmp_path)
    conftest.pytest_runtest_setup(Marked())
