"""What people read when something fails is plain text: no service address, no file path, no
exception class or repr. The details go to the log, where the operator finds them."""

from __future__ import annotations

import logging
import re
import socket
import sqlite3
from pathlib import Path

import pytest
from engine_testing import ANN, BEN, CHANNEL, FakeClock, FakeGenerator, start_story

from bot.discord.tree import explain
from bot.errors import DatabaseError, GenerationFailed, GeneratorBusy, GeneratorDown
from bot.story import EngineOptions, StoryEngine
from generators.errors import (
    GeneratorError,
    GeneratorOverloaded,
    GeneratorTimeout,
    GeneratorUnavailable,
    InvalidGenerationRequest,
    UnknownModel,
)
from generators.http_client import HttpGenerator
from storage.sqlite import open_storage
from storage.sqlite.database import translate

LEAKS = {
    "an address": re.compile(r"[a-z]+://|\b\d{1,3}(?:\.\d{1,3}){3}\b|localhost"),
    "a path": re.compile(r"(?:^|[\s(])(?:/|~/|[A-Za-z]:\\)\w"),
    "an exception class": re.compile(r"\b[A-Z]\w*(?:Error|Exception|Timeout|Unavailable)\b"),
    "a repr": re.compile(r"\b\w+\((?:'|\"|\)|\w+=)|<\w+[ .]"),
    "a driver's words": re.compile(r"sqlite|constraint|errno|traceback", re.IGNORECASE),
}


def assert_plain(text: str) -> None:
    for what, pattern in LEAKS.items():
        found = pattern.search(text)
        assert found is None, f"{what} ({found.group(0)!r}) reaches a person: {text!r}"


LEAKY_FAILURES: list[GeneratorError] = [
    GeneratorUnavailable(
        "cannot reach http://127.0.0.1:9: ConnectError('All connection attempts failed')"
    ),
    GeneratorTimeout("http://10.0.0.7:8765 did not answer in 3.0 s"),
    GeneratorOverloaded("http://gen.internal:8765: generation queue is full", 2.0),
    GeneratorUnavailable("cannot load the model at /srv/models/lstm: FileNotFoundError(2)"),
    InvalidGenerationRequest("context has 53150 characters; this service accepts at most 20000"),
    UnknownModel("unknown model 'lstm-big'; loaded: /models/tiny"),
]


def test_the_patterns_catch_what_used_to_be_shown() -> None:
    for failure in [*LEAKY_FAILURES[:4], LEAKY_FAILURES[-1]]:
        with pytest.raises(AssertionError):
            assert_plain(f"The storyteller model is unavailable ({failure}).")
    with pytest.raises(AssertionError):
        assert_plain("The story database /home/bot/.local/share/talewright.db failed.")


@pytest.mark.parametrize("failure", LEAKY_FAILURES, ids=lambda f: type(f).__name__)
async def test_generator_failures_read_as_plain_text(
    storage, moderator, clock: FakeClock, failure: GeneratorError, caplog
) -> None:
    generator = FakeGenerator()
    engine = StoryEngine(storage, generator, moderator, clock=clock)
    await start_story(engine)
    made = await engine.ai_turn(CHANNEL, ANN)
    generator.error = failure
    caplog.set_level(logging.WARNING, "talewright.engine")
    for attempt in (engine.ai_turn(CHANNEL, ANN), engine.reroll(made.turn.id, ANN)):
        with pytest.raises(GenerationFailed) as caught:
            await attempt
        assert_plain(str(caught.value))
        assert_plain(explain(caught.value) or "")
        assert str(failure) not in str(caught.value)
        assert "your text is safe" in str(caught.value)
    assert str(failure) in caplog.text, "the details are logged"


async def test_an_overloaded_generator_says_busy_and_a_dead_one_says_unreachable(
    storage, moderator, clock: FakeClock
) -> None:
    generator = FakeGenerator(error=GeneratorOverloaded("queue full"))
    engine = StoryEngine(storage, generator, moderator, clock=clock)
    await start_story(engine)
    with pytest.raises(GeneratorBusy, match=r"busy with other stories.*a few seconds"):
        await engine.ai_turn(CHANNEL, ANN)
    generator.error = GeneratorUnavailable("down")
    with pytest.raises(GeneratorDown, match="not reachable right now; your text is safe"):
        await engine.ai_turn(CHANNEL, ANN)


@pytest.mark.parametrize("failure", LEAKY_FAILURES[:2], ids=lambda f: type(f).__name__)
async def test_an_opening_and_a_stand_in_that_fail_read_as_plain_text(
    storage, moderator, clock: FakeClock, failure: GeneratorError
) -> None:
    engine = StoryEngine(storage, FakeGenerator(error=failure), moderator, clock=clock)
    started = await start_story(
        engine, ai_opening=True, mode="round_robin", turn_timeout_s=30, timeout_action="ai"
    )
    assert started.notices and "write the first turn" in started.notices[0]
    assert_plain(" ".join(started.notices))
    await engine.join(CHANNEL, BEN, "Ben")
    clock.advance(31)
    events = await engine.process_due()
    assert [event.action for event in events] == ["skipped"]
    assert "could not write for them" in events[0].message
    assert_plain(events[0].message)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def test_a_real_unreachable_service_reads_as_plain_text(
    storage, moderator, clock: FakeClock, caplog
) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    generator = HttpGenerator([url], retries=0, timeout_s=30)
    engine = StoryEngine(
        storage, generator, moderator, EngineOptions(generation_timeout_s=30), clock=clock
    )
    try:
        await start_story(engine)
        await engine.write(CHANNEL, ANN, "Ann", "The kite rose over the hill.")
        caplog.set_level(logging.WARNING, "talewright.engine")
        with pytest.raises(GeneratorDown) as caught:
            await engine.ai_turn(CHANNEL, ANN)
    finally:
        await generator.aclose()
    assert_plain(str(caught.value))
    assert url in caplog.text
    page = await engine.show(channel_id=CHANNEL)
    assert [t.text for t in page.turns] == ["The kite rose over the hill."]


async def test_database_failures_name_no_path(db_path: Path, moderator, clock: FakeClock) -> None:
    storage = await open_storage(db_path, busy_timeout_s=0.05, clock=clock)
    engine = StoryEngine(storage, FakeGenerator(), moderator, clock=clock)
    try:
        await start_story(engine)
        holder = sqlite3.connect(db_path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(DatabaseError) as locked:
                await engine.write(CHANNEL, ANN, "Ann", "Blocked.")
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        async with storage.database.read() as conn:
            await conn.execute("PRAGMA query_only = ON")
        with pytest.raises(DatabaseError) as read_only:
            await engine.write(CHANNEL, ANN, "Ann", "Nowhere to go.")
    finally:
        await storage.close()
    for caught in (locked, read_only):
        assert str(db_path) not in str(caught.value) and db_path.name not in str(caught.value)
        assert_plain(str(caught.value))
    assert "busy" in str(locked.value) and "nothing was saved" in str(read_only.value)


def test_a_broken_uniqueness_rule_does_not_quote_the_driver() -> None:
    with sqlite3.connect(":memory:") as conn:
        conn.execute("CREATE TABLE characters (name TEXT UNIQUE)")
        conn.execute("INSERT INTO characters VALUES ('Mira')")
        with pytest.raises(sqlite3.IntegrityError) as raised:
            conn.execute("INSERT INTO characters VALUES ('Mira')")
    assert_plain(str(translate(raised.value, "/srv/talewright.db")))
