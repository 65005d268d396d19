"""Fixtures for the engine and console tests: a real SQLite file, a fake clock and generator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from engine_testing import FakeClock, FakeGenerator

from bot.story import EngineOptions, StoryEngine
from generators.moderation import Moderator
from storage.sqlite import SqliteStorage, open_storage


@pytest.fixture(scope="session")
def moderator() -> Moderator:
    return Moderator(use_classifier=False)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "talewright.db"


@pytest.fixture
async def storage(db_path: Path, clock: FakeClock) -> AsyncIterator[SqliteStorage]:
    async with await open_storage(db_path, clock=clock) as opened:
        yield opened


@pytest.fixture
def generator() -> FakeGenerator:
    return FakeGenerator()


@pytest.fixture
def options() -> EngineOptions:
    return EngineOptions(generation_timeout_s=2.0)


@pytest.fixture
def engine(
    storage: SqliteStorage,
    generator: FakeGenerator,
    moderator: Moderator,
    options: EngineOptions,
    clock: FakeClock,
) -> StoryEngine:
    return StoryEngine(storage, generator, moderator, options, clock=clock)
