"""Two bot processes on one PostgreSQL database against the fake Discord, each running one of two
shards: stories in guilds on both shards are written in turn, the two processes reach every
round-robin deadline together, and the process of one shard is killed (SIGKILL) while its model
request is in flight. The database, read directly, holds every turn the bot confirmed once; each
deadline got one stand-in from one model request; the killed process's story is writable after
its restart (its lock went with it), and the other shard played on meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from bot_harness import (
    MODEL_WAIT_S,
    PYTHON,
    ROOT,
    answered,
    bot_environment,
    bot_settings,
    turn_ids,
)
from bot_process import PROCESS_START_S, BotProcess
from fakediscord import FakeDiscord, Interaction
from pg_server import PgServer
from stubservice import StubService

pytestmark = pytest.mark.slow

SHARDS = 2
ROUNDS = 4
RING = {"genre": "mystery", "mode": "round_robin", "turn_timeout": 3600, "timeout_action": "ai"}


@dataclass
class ShardProcess(BotProcess):
    """A bot process that runs one shard; ready when that shard is."""

    shard: int = 0

    async def start(self) -> None:
        assert self.process is None or self.process.returncode is not None
        with self.log_file.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                *self.command(), cwd=ROOT, env=self.env, stdout=log, stderr=log
            )
        self.starts += 1
        process = self.process

        def ready() -> bool:
            if process.returncode is not None:
                raise RuntimeError(f"shard {self.shard} exited:\n{self.log()[-3000:]}")
            return self.shard in self.fake.ready_shards()

        await self.fake.wait_until(ready, PROCESS_START_S, f"shard {self.shard} ready")

    def command(self) -> list[str]:
        return [PYTHON, str(ROOT / "tests" / "e2e" / "faultbot.py")]

    async def died(self, timeout: float = 60.0) -> bool:  # noqa: ASYNC109 -- BotProcess's own
        assert self.process is not None
        await asyncio.wait_for(self.process.wait(), timeout)
        await self.fake.wait_until(
            lambda: self.shard not in self.fake.ready_shards(), 30, "the fake to see it go"
        )
        self.kills += self.process.returncode == -9
        return self.process.returncode == -9


@pytest.fixture
def pg_url(pg_server: PgServer) -> Iterator[str]:
    name = pg_server.create_database()
    try:
        yield pg_server.url(name)
    finally:
        pg_server.drop_database(name)


def shard_environment(
    fake: FakeDiscord, url: str, service_url: str, folder: Path, shard: int
) -> dict[str, str]:
    settings = bot_settings(
        fake,
        folder / "unused.db",
        ROOT / "generators" / "checkpoints" / "default",
        dev_guild_id=None,  # several guilds: the commands are global
        pending_turn_hold_s=0,  # anyone may write past a model turn at once
    )
    return bot_environment(settings) | {
        "TALEWRIGHT_STORAGE__URL": url,
        "TALEWRIGHT_BOT__SHARD_COUNT": str(SHARDS),
        "TALEWRIGHT_BOT__SHARD_IDS": str(shard),
        "TALEWRIGHT_GENERATOR__MODE": "http",
        "TALEWRIGHT_GENERATOR__URLS": f'["{service_url}"]',
        "TALEWRIGHT_GENERATOR__TIMEOUT_S": "60",
        "TALEWRIGHT_GENERATOR__CANDIDATES": "1",
        # A set shard count makes discord.py connect to its default gateway: point it here.
        "TALEWRIGHT_FAULT_GATEWAY": fake.gateway_url,
    }


class Database:
    """The shared database, as any other process reads it."""

    def __init__(self, url: str) -> None:
        self.url = url

    async def rows(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        conn = await asyncpg.connect(self.url)
        try:
            return await conn.fetch(sql, *args)
        finally:
            await conn.close()

    async def story_id(self, title: str) -> int:
        [row] = await self.rows("SELECT id FROM stories WHERE title = $1", title)
        return row["id"]

    async def accepted(self) -> list[asyncpg.Record]:
        return await self.rows("SELECT * FROM turns WHERE state = 'accepted' ORDER BY id")

    async def make_due(self, story_id: int) -> None:
        await self.rows("UPDATE stories SET turn_deadline = 1 WHERE id = $1", story_id)

    async def writer(self, story_id: int) -> str:
        [row] = await self.rows(
            "SELECT p.display_name FROM stories s JOIN participants p "
            "ON p.story_id = s.id AND p.seat = s.current_seat WHERE s.id = $1",
            story_id,
        )
        return row["display_name"]


@dataclass
class Table:
    fake: FakeDiscord
    db: Database
    confirmed: Counter[str]

    async def write(self, user: str, channel: str) -> None:
        """A written turn the bot confirms, remembered."""
        self.confirmed[await self.written(user, channel)] += 1

    async def written(self, user: str, channel: str) -> str:
        serial = sum(self.confirmed.values()) + 1
        text = f"Turn {serial}, written by {user} in {channel}."
        [thread] = self.fake.threads(channel)
        ix = await self.fake.slash(user, thread, "story", "write", options={"text": text})
        [shown, *_] = await answered(ix)
        assert shown.embeds[0]["description"] == text, shown.content
        return text

    async def model_turn(self, channel: str) -> Interaction:
        [thread] = self.fake.threads(channel)
        return await self.fake.slash("alice", thread, "story", "continue")

    def announcements(self, channel: str) -> list[Any]:
        [thread] = self.fake.threads(channel)
        return [m for m in self.fake.messages(thread) if "⏰" in m.content]


async def test_two_processes_on_one_database_lose_and_duplicate_nothing(
    fake_discord: FakeDiscord, pg_url: str, tmp_path: Path
) -> None:
    fake = fake_discord
    home = (fake.guild.id >> 22) % SHARDS
    other = fake.add_guild("Second Guild", shard=(1 - home, SHARDS), channels=("tavern", "hall"))
    assert (other.id >> 22) % SHARDS != home
    db = Database(pg_url)
    table = Table(fake, db, Counter())
    async with StubService() as service:
        processes = {}
        for shard in range(SHARDS):
            folder = tmp_path / f"shard-{shard}"
            folder.mkdir()
            env = shard_environment(fake, pg_url, service.url, folder, shard)
            processes[shard] = ShardProcess(fake, env, folder, shard=shard)
        try:
            await asyncio.gather(*(p.start() for p in processes.values()))
            await fake.wait_until(
                lambda: fake.synced_commands(guild=False), PROCESS_START_S, "global commands"
            )
            syncs = [c for c in fake.rest_calls if c.method == "PUT" and "commands" in c.path]
            assert len(syncs) == 1, "only the process with shard 0 registers the commands"

            # Stories in a guild of each shard; model turns kept by the writes after them.
            for title, channel in [("Harbour", "general"), ("Tavern", "tavern")]:
                start = {"title": title, "genre": "fantasy_adventure"}
                await answered(await fake.slash("alice", channel, "story", "start", options=start))
            for title, channel in [("Ring", "stories"), ("Hall", "hall")]:
                await answered(
                    await fake.slash(
                        "alice", channel, "story", "start", options=RING | {"title": title}
                    )
                )
                [thread] = fake.threads(channel)
                await answered(await fake.slash("bob", thread, "story", "join"))
            model_texts: list[str] = []
            for round_ in range(ROUNDS):
                for channel in ("general", "tavern"):
                    await table.write("alice" if round_ % 2 else "bob", channel)
                    if round_ % 2:
                        [shown] = await answered(await table.model_turn(channel))
                        model_texts.append(shown.embeds[0]["description"])
                for title, channel in [("Ring", "stories"), ("Hall", "hall")]:
                    await table.write(await db.writer(await db.story_id(title)), channel)

            # Both processes reach both deadlines: each stand-in holds its story's lock for a
            # second of model time, over two ticks of the other process's clock.
            service.delay_s = 1.0
            requests_before = len(service.requests)
            for title in ("Ring", "Hall"):
                await db.make_due(await db.story_id(title))
            for channel in ("stories", "hall"):
                await fake.wait_until(
                    lambda channel=channel: table.announcements(channel), MODEL_WAIT_S, "stand-in"
                )
            await asyncio.sleep(2.0)  # more ticks of both clocks, to let a second firing show
            service.delay_s = 0.0
            stand_ins = [
                turn_id
                for channel in ("stories", "hall")
                for message in table.announcements(channel)
                for turn_id in turn_ids(message)
            ]
            assert len(stand_ins) == 2, [
                m.content for c in ("stories", "hall") for m in table.announcements(c)
            ]
            assert len(service.requests) - requests_before == 2

            # kill -9 of the second guild's process while its model request is held.
            victim = processes[1 - home]
            service.set("hold")
            seen = len(service.requests)
            held = await table.model_turn("tavern")
            await service.wait_request(seen + 1, MODEL_WAIT_S)
            await victim.kill()
            assert held.original is not None and held.original.loading
            service.set("answer")
            await table.write("alice", "general")  # the other shard plays on meanwhile
            await victim.start()
            await table.write("bob", "tavern")  # not "a turn is already being written"
            for channel in ("general", "tavern"):
                await table.write("carol", channel)
        finally:
            for process in processes.values():
                with contextlib.suppress(Exception):
                    await process.stop()

    accepted = await db.accepted()
    texts = Counter(row["text"] for row in accepted)
    lost = [text for text in [*table.confirmed, *model_texts] if text not in texts]
    duplicated = [text for text, count in texts.items() if count > 1]
    assert lost == [] and duplicated == []
    assert set(stand_ins) <= {row["id"] for row in accepted}
    assert victim.kills == 1
