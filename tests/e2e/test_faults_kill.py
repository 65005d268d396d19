"""kill -9 of the real bot process at seeded random points of model turns, writes, keeps and AI
stand-ins (round-robin deadline timeouts), twenty times; after each restart the SQLite file is
read directly: no turn the bot confirmed is lost, none is stored twice, both stories still play,
and buttons the killed process posted still work.

Kill points: SIGKILL while the generation service holds the model's request, or just before the
k-th write statement of the operation (faultbot.py's kill switch), so a kill falls between any
two statements of a transaction or between transactions. The points are drawn from SEED; the
figures are printed at the end of the run (conftest's summary).
"""

# ruff: noqa: ASYNC110 -- it polls files and a database another process writes.

from __future__ import annotations

import asyncio
import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from bot_harness import MODEL_WAIT_S, answered, turn_ids
from bot_process import (
    BotProcess,
    accepted_turns,
    fault_environment,
    make_due,
    participants,
    story_ids,
    story_row,
    turn_row,
)
from fakediscord import FakeDiscord, Interaction, Message
from fault_figures import record
from stubservice import StubService

pytestmark = pytest.mark.faults

SEED = 15
KILLS = 20
KINDS = ("continue-request", "continue-store", "write", "keep", "standin-request", "standin-store")
WRITE_POINTS = {"continue-store": 7, "write": 8, "keep": 7, "standin-store": 6}
"""How many write statements (BEGIN/COMMIT/INSERT/UPDATE/...) each operation ran when this was
written; a kill is armed at one of them. An operation that finishes first is killed right after
(counted as "after the operation")."""
ROUND_ROBIN = {
    "title": "Ring",
    "genre": "mystery",
    "mode": "round_robin",
    "turn_timeout": 3600,
    "timeout_action": "ai",
}


def kill_plan(seed: int = SEED) -> list[str]:
    """Twenty kinds of kill, each kind at least three times, in a seeded order."""
    rng = random.Random(seed)
    plan = [*KINDS * 3, *rng.choices(KINDS, k=KILLS - 3 * len(KINDS))]
    rng.shuffle(plan)
    return plan


@dataclass
class Ledger:
    """What the bot confirmed to people, which the database must still hold after a kill."""

    texts: set[str] = field(default_factory=set)
    turn_ids: set[int] = field(default_factory=set)
    kill_points: Counter[str] = field(default_factory=Counter)


@dataclass
class Play:
    fake: FakeDiscord
    db: Path
    bot: BotProcess
    service: StubService
    rng: random.Random
    ledger: Ledger = field(default_factory=Ledger)
    pending: Message | None = None
    pending_id: int = 0
    pending_process: int = 0
    old_buttons: int = 0
    serial: int = 0

    @property
    def free(self) -> int:
        return story_ids(self.db)["Free"]

    @property
    def ring(self) -> int:
        return story_ids(self.db)["Ring"]

    def thread(self, parent: str):
        [thread] = self.fake.threads(parent)
        return thread

    def text(self) -> str:
        self.serial += 1
        return f"Written turn number {self.serial} of the fault run."

    async def settled(self) -> None:
        """Until no round-robin deadline is due (a stand-in the kill cut short is redone)."""
        async with asyncio.timeout(MODEL_WAIT_S):
            while (story_row(self.db, self.ring)["turn_deadline"] or 2) < 100:
                await asyncio.sleep(0.1)

    async def write(self, user: str, parent: str) -> Interaction:
        text = self.text()
        ix = await self.fake.slash(
            user, self.thread(parent), "story", "write", options={"text": text}
        )
        return ix

    async def confirmed_write(self, user: str, parent: str) -> None:
        ix = await self.write(user, parent)
        [turn, *_] = await answered(ix)
        self.ledger.texts.add(turn.embeds[0]["description"])

    async def ring_writer(self) -> str:
        story = story_row(self.db, self.ring)
        seated = {p["seat"]: p["display_name"] for p in participants(self.db, self.ring)}
        return seated[story["current_seat"]]

    async def new_pending(self) -> None:
        ix = await self.fake.slash("alice", self.thread("general"), "story", "continue")
        [shown] = await answered(ix)
        [self.pending_id] = turn_ids(shown)
        self.pending, self.pending_process = shown, self.bot.starts

    async def keep_pending(self) -> None:
        """Keep the pending model turn with its button, which an earlier process may have posted."""
        assert self.pending is not None
        shown, self.pending, turn_id = self.pending, None, self.pending_id
        if turn_row(self.db, turn_id)["state"] == "accepted":
            return
        self.old_buttons += self.pending_process < self.bot.starts
        click = await self.fake.click("alice", shown, f"tw:keep:{turn_id}")
        await click.wait_response(MODEL_WAIT_S)
        await self.fake.wait_until(lambda: shown.components == [], MODEL_WAIT_S, "buttons off")
        assert "kept by alice" in shown.embeds[0]["footer"]["text"]
        self.ledger.turn_ids.add(turn_id)


def check(play: Play) -> tuple[list[str], list[str]]:
    """Lost and duplicated turns, read from the SQLite file."""
    free, ring = accepted_turns(play.db, play.free), accepted_turns(play.db, play.ring)
    rows = [*free, *ring]
    texts = Counter(row["text"] for row in rows)
    ids = {row["id"] for row in rows}
    lost = [t for t in sorted(play.ledger.texts) if t not in texts]
    lost += [f"turn #{i}" for i in sorted(play.ledger.turn_ids - ids)]
    duplicated = [text for text, count in texts.items() if count > 1]
    # Round robin with two writers and no skips: each accepted turn is the other writer's.
    writers = [row["author_id"] for row in ring]
    duplicated += [
        f"ring slot {ring[i]['slot']}: two turns in a row for {writers[i]}"
        for i in range(1, len(writers))
        if writers[i] == writers[i - 1]
    ]
    return lost, duplicated


async def until_dead_or(play: Play, done) -> bool:
    """Wait for the armed kill or for `done()`; whether the operation finished first."""
    assert play.bot.process is not None
    death = asyncio.ensure_future(play.bot.process.wait())
    finished = asyncio.ensure_future(play.fake.wait_until(done, MODEL_WAIT_S, "the operation"))
    await asyncio.wait({death, finished}, return_when=asyncio.FIRST_COMPLETED)
    for task in (death, finished):
        task.cancel()
    return bool(done())


def settled_answer(ix: Interaction) -> list[Message] | None:
    visible = ix.visible
    return visible if visible and not any(m.loading for m in visible) else None


async def kill_during(play: Play, kind: str) -> str:
    """Run one operation of `kind` and kill the bot in it; where the kill fell."""
    bot, service, rng = play.bot, play.service, play.rng
    if kind.endswith("-request"):
        service.set("hold")
        seen = len(service.requests)
        if kind == "continue-request":
            await play.fake.slash("alice", play.thread("general"), "story", "continue")
        else:
            make_due(play.db, play.ring)
        await service.wait_request(seen + 1, MODEL_WAIT_S)
        await asyncio.sleep(rng.uniform(0.0, 0.3))
        await bot.kill()
        service.set("answer")
        return f"{kind}: while the model request was held"
    point = rng.randint(1, WRITE_POINTS[kind])
    await bot.arm(point)
    if kind == "write":
        ix = await play.write("alice", "general")
        if await until_dead_or(play, lambda: settled_answer(ix)):
            answer = settled_answer(ix)
            assert answer is not None
            play.ledger.texts.add(answer[0].embeds[0]["description"])
    elif kind == "continue-store":
        ix = await play.fake.slash("alice", play.thread("general"), "story", "continue")
        if await until_dead_or(play, lambda: settled_answer(ix)):
            answer = settled_answer(ix)
            assert answer is not None
            [play.pending_id] = turn_ids(answer[0])
            play.pending, play.pending_process = answer[0], bot.starts
    elif kind == "keep":
        assert play.pending is not None
        shown, turn_id = play.pending, play.pending_id
        play.old_buttons += play.pending_process < bot.starts
        await play.fake.click("alice", shown, f"tw:keep:{turn_id}")
        if await until_dead_or(play, lambda: "kept by" in shown.embeds[0]["footer"]["text"]):
            play.ledger.turn_ids.add(turn_id)
            play.pending = None
    else:
        ring = play.thread("stories")
        before = len([m for m in play.fake.messages(ring) if "⏰" in m.content])

        def announced() -> Message | None:
            found = [m for m in play.fake.messages(ring) if "⏰" in m.content]
            return found[-1] if len(found) > before else None

        make_due(play.db, play.ring)
        if await until_dead_or(play, announced):
            message = announced()
            assert message is not None
            play.ledger.turn_ids.update(turn_ids(message))
    alive = bot.alive
    await bot.kill()
    where = "after the operation" if alive else f"before write {point}: {bot.killed_at()}"
    return f"{kind}: {where}"


async def test_twenty_kills_lose_and_duplicate_nothing(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    fake = fake_discord
    db = tmp_path / "faults.db"
    async with StubService() as service:
        bot = BotProcess(fake, fault_environment(fake, db, service.url), tmp_path)
        play = Play(fake, db, bot, service, random.Random(SEED))
        await bot.start()
        start = {"title": "Free", "genre": "mystery"}
        await answered(await fake.slash("alice", "general", "story", "start", options=start))
        await answered(await fake.slash("alice", "stories", "story", "start", options=ROUND_ROBIN))
        await answered(await fake.slash("bob", play.thread("stories"), "story", "join"))

        plan = kill_plan()
        points: list[str] = []
        failures: list[str] = []
        try:
            for index, kind in enumerate(plan):
                if not bot.alive:
                    await bot.start()
                await play.settled()
                lost, duplicated = check(play)
                if lost or duplicated:
                    failures.append(f"after kill {index} ({points[-1]}): {lost} {duplicated}")
                if play.pending is not None and kind != "keep":
                    await play.keep_pending()
                await play.confirmed_write("alice", "general")
                await play.confirmed_write(await play.ring_writer(), "stories")
                if play.pending is None:
                    await play.new_pending()
                points.append(await kill_during(play, kind))
            await bot.start()
            await play.settled()
            lost, duplicated = check(play)
            if play.pending is not None:
                await play.keep_pending()
            await play.confirmed_write("alice", "general")
            await play.confirmed_write(await play.ring_writer(), "stories")
            final_lost, final_duplicated = check(play)
        finally:
            await bot.stop()

    inside = sum("after the operation" not in p for p in points)
    record(
        f"kill -9: {bot.kills} kills ({inside} inside an operation), "
        f"{len(play.ledger.texts) + len(play.ledger.turn_ids)} confirmed turns checked, "
        f"lost {len(lost) + len(final_lost)}, "
        f"duplicated {len(duplicated) + len(final_duplicated)}, "
        f"old buttons pressed after a restart {play.old_buttons}"
    )
    assert bot.kills == KILLS, points
    assert failures == [], failures
    assert (lost, duplicated, final_lost, final_duplicated) == ([], [], [], [])
    assert play.old_buttons >= 3, points


SETTLE_S = 20.0
"""How long after a restart the placeholder of a killed request may still say "thinking"."""


async def test_a_request_killed_mid_turn_is_settled_after_the_restart(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    fake = fake_discord
    db = tmp_path / "faults.db"
    async with StubService(mode="hold") as service:
        bot = BotProcess(fake, fault_environment(fake, db, service.url), tmp_path)
        await bot.start()
        try:
            start = {"title": "Free", "genre": "mystery"}
            await answered(await fake.slash("alice", "general", "story", "start", options=start))
            ix = await fake.slash("alice", fake.threads("general")[0], "story", "continue")
            await service.wait_request(1, MODEL_WAIT_S)
            await bot.kill()
            assert ix.original is not None and ix.original.loading
            service.set("answer")
            await bot.start()
            settled = await fake.wait_until(
                lambda: ix.original is not None and not ix.original.loading,
                SETTLE_S,
                "the dead request's placeholder to be settled",
            )
        finally:
            await bot.stop()
    assert settled
