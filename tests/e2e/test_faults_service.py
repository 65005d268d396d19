"""The generation service failing under the real bot process: killed with SIGKILL while it
holds a request, slower than the bot's deadline, and answering 503 overloaded. The person who
asked gets a plain message (no address, no exception name), the turn they wrote before is
stored, and the story plays on (a write, and a model turn once the service is back)."""

# ruff: noqa: ASYNC110 -- it polls files and a database another process writes.

from __future__ import annotations

import asyncio
import re
import signal
import sys
from pathlib import Path

import pytest
from bot_harness import MODEL_WAIT_S, ROOT, answered
from bot_process import BotProcess, accepted_turns, fault_environment, story_ids
from fakediscord import FakeDiscord
from fault_figures import record
from stubservice import StubService

pytestmark = pytest.mark.faults

DEADLINE_S = 3.0
"""The bot's generator deadline in these tests; the slow service answers far later."""
INTERNALS = re.compile(
    r"https?://|127\.0\.0\.1|localhost|Traceback|\b\w+(Error|Exception|Timeout)\b|\w+\(.*\)"
)


def plain(message: str) -> bool:
    return not INTERNALS.search(message)


async def story_with_written_turn(fake: FakeDiscord, text: str):
    await answered(
        await fake.slash(
            "alice", "general", "story", "start", options={"title": "Tide", "genre": "mystery"}
        )
    )
    [thread] = fake.threads("general")
    await answered(await fake.slash("alice", thread, "story", "write", options={"text": text}))
    return thread


async def failed_model_turn(fake: FakeDiscord, thread, bot: BotProcess) -> str:
    """Ask for a model turn that fails; what the person sees."""
    ix = await fake.slash("bob", thread, "story", "continue")
    [message] = await answered(ix, within=MODEL_WAIT_S)
    assert message.embeds == [] or "turn #" not in str(message.embeds), message
    assert bot.alive, bot.log()
    return message.content


async def still_playable(fake: FakeDiscord, thread, db: Path, text: str) -> None:
    written = await fake.slash("carol", thread, "story", "write", options={"text": text})
    [turn, *_] = await answered(written)
    assert turn.embeds[0]["description"] == text
    assert text in [row["text"] for row in accepted_turns(db, story_ids(db)["Tide"])]


async def test_a_slow_and_an_overloaded_service(fake_discord: FakeDiscord, tmp_path: Path) -> None:
    fake = fake_discord
    db = tmp_path / "t.db"
    async with StubService() as service:
        env = fault_environment(fake, db, service.url, timeout_s=DEADLINE_S, retries=1)
        bot = BotProcess(fake, env, tmp_path)
        await bot.start()
        try:
            thread = await story_with_written_turn(fake, "The tide went out too far.")
            service.set("slow")
            slow = await failed_model_turn(fake, thread, bot)
            await still_playable(fake, thread, db, "Crabs walked the dry sand.")
            service.set("overloaded")
            overloaded = await failed_model_turn(fake, thread, bot)
            await still_playable(fake, thread, db, "A bell rang under the water.")
            service.set("answer")
            back = await fake.slash("alice", thread, "story", "continue")
            [turn] = await answered(back)
            assert "(reply" in turn.embeds[0]["description"]
        finally:
            await bot.stop()
    stored = [row["text"] for row in accepted_turns(db, story_ids(db)["Tide"])]
    assert stored[:3] == [
        "The tide went out too far.",
        "Crabs walked the dry sand.",
        "A bell rang under the water.",
    ]
    record(f"service slow: {slow!r}")
    record(f"service 503: {overloaded!r}")
    assert plain(slow) and plain(overloaded), (slow, overloaded)
    assert "took too long" in slow or "slow" in slow, slow


async def test_a_service_killed_mid_request(fake_discord: FakeDiscord, tmp_path: Path) -> None:
    fake = fake_discord
    db = tmp_path / "t.db"
    port_file = tmp_path / "port"
    service = await asyncio.create_subprocess_exec(
        sys.executable,
        str(Path(__file__).with_name("stubservice.py")),
        str(port_file),
        "hold",
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        async with asyncio.timeout(MODEL_WAIT_S):
            while not port_file.exists() or not port_file.read_text():
                await asyncio.sleep(0.05)
        url = f"http://127.0.0.1:{port_file.read_text()}"
        bot = BotProcess(fake, fault_environment(fake, db, url, timeout_s=60), tmp_path)
        await bot.start()
        try:
            thread = await story_with_written_turn(fake, "The tide went out too far.")
            ix = await fake.slash("bob", thread, "story", "continue")
            assert service.stdout is not None
            assert await asyncio.wait_for(service.stdout.readline(), MODEL_WAIT_S) == b"request\n"
            service.send_signal(signal.SIGKILL)
            await service.wait()
            [message] = await answered(ix)
            killed = message.content
            again = await failed_model_turn(fake, thread, bot)
            await still_playable(fake, thread, db, "Crabs walked the dry sand.")
        finally:
            await bot.stop()
    finally:
        if service.returncode is None:
            service.kill()
            await service.wait()
    record(f"service killed: {killed!r}; asked again: {again!r}")
    assert "turn #" not in str(message.embeds)
    assert plain(killed) and plain(again), (killed, again)
