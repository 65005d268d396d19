"""Pytest fixtures for the fake; load them from a conftest with
`from fakediscord.fixtures import fake_discord`."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from .server import FakeDiscord


@pytest.fixture
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    """A started fake with the default world, stopped after the test."""
    async with FakeDiscord() as fake:
        yield fake
