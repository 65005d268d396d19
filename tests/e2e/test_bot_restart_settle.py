"""A model request killed with the bot (kill -9 while the generator holds it) is not left
"thinking" forever: the restarted bot edits its placeholder to say it was interrupted."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from bot_harness import answered, assert_discord_rules_kept
from bot_process import BotProcess, fault_environment, read_db
from fakediscord import FakeDiscord
from stubservice import StubService

from bot.discord.inflight import INTERRUPTED


def inflight_rows(db: Path) -> int:
    with read_db(db) as conn:
        return conn.execute("SELECT count(*) FROM inflight").fetchone()[0]


RECORD_WAIT_S = 30.0


async def until_no_inflight_rows(db: Path) -> None:
    """Poll the database: the bot removes a record just after its answer reaches Discord, and
    fake Discord's wait_until re-checks only when fake Discord's own state changes, so it could
    read the record once, a moment before the removal, and never look again."""
    deadline = time.monotonic() + RECORD_WAIT_S
    while inflight_rows(db):
        assert time.monotonic() < deadline, "an answered request's record outlived its answer"
        await asyncio.sleep(0.05)


async def test_a_request_killed_mid_generation_is_settled_on_restart(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    fake = fake_discord
    db = tmp_path / "t.db"
    async with StubService(mode="hold") as service:
        bot = BotProcess(fake, fault_environment(fake, db, service.url), tmp_path)
        try:
            await bot.start()
            options = {"title": "Held", "genre": "mystery"}
            await answered(await fake.slash("alice", "general", "story", "start", options=options))
            [thread] = fake.threads("general")
            asked = await fake.slash("bob", thread, "story", "continue")
            await service.wait_request(1)
            [placeholder] = asked.visible
            assert placeholder.loading and inflight_rows(db) == 1

            await bot.kill()
            assert [m.loading for m in asked.visible] == [True]
            await bot.start()
            [settled] = await answered(asked)
            assert settled.content == INTERRUPTED and not settled.ephemeral
            assert inflight_rows(db) == 0

            service.set("answer")
            again = await fake.slash("bob", thread, "story", "continue")
            [turn] = await answered(again)
            assert turn.embeds
            await until_no_inflight_rows(db)
        finally:
            await bot.stop()
    assert_discord_rules_kept(fake)
