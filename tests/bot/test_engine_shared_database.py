"""Two engines on one database, as two bot processes are: a turn being written in one is busy
in the other, and a deadline (with the model standing in) is handled once however many
processes reach it at the same moment. SQLite runs one writing process, so there the same
engine is asked twice at once; PostgreSQL gets two storage objects on one database.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest
from engine_testing import ANN, BEN, CHANNEL, FakeClock, FakeGenerator, start_story
from pg_server import PgServer

from bot.errors import TurnInProgress
from bot.story import EngineOptions, StoryEngine
from generators.moderation import Moderator
from generators.schemas import GenerateRequest, GenerateResponse
from storage.postgres import open_postgres_storage
from storage.repositories import Storage
from storage.sqlite import SqliteStorage

STUCK_S = 60.0
"""A second process that got past the lock waits on the gate: fail instead of hanging."""


class GatedGenerator(FakeGenerator):
    """Answers only once `gate` opens; `asked` is set by the first request."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.asked = asyncio.Event()

    async def generate(self, request: GenerateRequest) -> GenerateResponse:
        self.asked.set()
        await self.gate.wait()
        return await super().generate(request)


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def pg_url(backend: str, request: pytest.FixtureRequest) -> Iterator[str | None]:
    if backend == "sqlite":
        yield None
        return
    server: PgServer = request.getfixturevalue("pg_server")
    name = server.create_database()
    try:
        yield server.url(name)
    finally:
        server.drop_database(name)


@pytest.fixture
async def storages(
    pg_url: str | None, storage: SqliteStorage, clock: FakeClock
) -> AsyncIterator[tuple[Storage, Storage]]:
    """What each of two processes writes through (the same object on SQLite)."""
    if pg_url is None:
        yield storage, storage
        return
    first = await open_postgres_storage(pg_url, clock=clock, pool_size=3)
    second = await open_postgres_storage(pg_url, clock=clock, pool_size=3)
    try:
        yield first, second
    finally:
        await first.close()
        await second.close()


@pytest.fixture
def gated() -> GatedGenerator:
    return GatedGenerator()


@pytest.fixture
def engines(
    storages: tuple[Storage, Storage],
    gated: GatedGenerator,
    moderator: Moderator,
    options: EngineOptions,
    clock: FakeClock,
) -> tuple[StoryEngine, StoryEngine]:
    return tuple(  # type: ignore[return-value]
        StoryEngine(storage, gated, moderator, options, clock=clock) for storage in storages
    )


async def test_a_turn_being_written_in_one_process_is_busy_in_the_other(
    engines: tuple[StoryEngine, StoryEngine], gated: GatedGenerator
) -> None:
    first, second = engines
    await start_story(first)
    writing = asyncio.ensure_future(first.ai_turn(CHANNEL, ANN, user_name="Ann"))
    await gated.asked.wait()
    with pytest.raises(TurnInProgress):
        async with asyncio.timeout(STUCK_S):
            await second.write(CHANNEL, ANN, "Ann", "Ann writes over the model.")
    gated.gate.set()
    await writing
    written = await second.write(CHANNEL, ANN, "Ann", "Ann writes after the model.")
    assert written.turn.text == "Ann writes after the model."


async def test_a_deadline_is_handled_once_by_processes_reaching_it_together(
    engines: tuple[StoryEngine, StoryEngine], gated: GatedGenerator, clock: FakeClock
) -> None:
    first, second = engines
    await start_story(first, mode="round_robin", turn_timeout_s=30, timeout_action="ai")
    await first.join(CHANNEL, BEN, "Ben")
    await first.write(CHANNEL, ANN, "Ann", "Ann writes and passes the turn to Ben.")
    clock.advance(31)
    standing_in = asyncio.ensure_future(first.process_due())
    await gated.asked.wait()
    async with asyncio.timeout(STUCK_S):
        assert await second.process_due() == []
    gated.gate.set()
    events = await standing_in
    assert [(event.action, event.missed.name) for event in events] == [("ai_wrote", "Ben")]
    assert await second.process_due() == []
    assert await first.process_due() == []
    page = await second.show(channel_id=CHANNEL)
    assert [turn.text for turn in page.turns].count(events[0].turn.text) == 1
    assert len(page.turns) == 2
    assert page.story.current_writer is not None and page.story.current_writer.name == "Ann"
