"""Fixtures for the storage tests: real database files in tmp_path and a clock we control."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from storage_testing import FakeClock

from storage.models import Story
from storage.sqlite import SqliteStorage, open_storage


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
async def story(storage: SqliteStorage) -> Story:
    return await storage.stories.create(
        guild_id=10, channel_id=20, owner_id=30, title="The Lighthouse", genre="mystery"
    )
