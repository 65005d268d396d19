"""The gateway connection of the real bot process lost while a model turn is being written: closed
with resumable codes, cut without a close frame (1006), and invalidated (op 9, resumable or
not). The bot reconnects, and the turn's answer is delivered exactly once: one callback, one
message with the turn, one pending turn in the database."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from bot_harness import MODEL_WAIT_S, answered, turn_ids
from bot_process import BotProcess, fault_environment, read_db
from fakediscord import FakeDiscord
from fault_figures import record
from stubservice import StubService

pytestmark = pytest.mark.faults


def faults(fake: FakeDiscord) -> dict[str, Callable[[], Awaitable[None]]]:
    return {
        "close 4000": lambda: fake.drop_connection(4000),
        "close 1001 (going away)": lambda: fake.drop_connection(1001),
        "TCP cut (1006)": fake.cut_connection,
        "op 9, resumable": lambda: fake.invalidate_session(resumable=True),
        "op 9, not resumable": lambda: fake.invalidate_session(resumable=False),
    }


async def test_a_turn_is_delivered_once_across_gateway_drops(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    fake = fake_discord
    db = tmp_path / "t.db"
    async with StubService() as service:
        bot = BotProcess(fake, fault_environment(fake, db, service.url), tmp_path)
        await bot.start()
        try:
            options = {"title": "Static", "genre": "mystery"}
            await answered(await fake.slash("alice", "general", "story", "start", options=options))
            [thread] = fake.threads("general")
            for name, fault in faults(fake).items():
                service.set("hold")
                seen = len(service.requests)
                ix = await fake.slash("alice", thread, "story", "continue")
                await service.wait_request(seen + 1, MODEL_WAIT_S)
                sessions = fake.identify_count + fake.resume_count
                await fault()
                await fake.wait_until(
                    lambda s=sessions: (
                        fake.identify_count + fake.resume_count > s and fake.gateway.connected
                    ),
                    MODEL_WAIT_S,
                    f"the bot to reconnect after {name}",
                )
                service.set("answer")
                [shown] = await answered(ix)
                [turn_id] = turn_ids(shown)
                assert len(ix.callbacks) == 1, name
                showing = [m for m in fake.messages(thread) if turn_id in turn_ids(m)]
                assert showing == [shown], name
                keep = await fake.click("alice", shown, f"tw:keep:{turn_id}")
                await keep.wait_response(MODEL_WAIT_S)
                await fake.wait_until(lambda m=shown: m.components == [], MODEL_WAIT_S)
            with read_db(db) as conn:
                slots = conn.execute(
                    "SELECT slot, count(*) FROM turns WHERE state = 'accepted' GROUP BY slot"
                ).fetchall()
        finally:
            await bot.stop()
    assert [count for _, count in slots] == [1] * len(faults(fake))
    assert len(service.requests) == len(faults(fake))
    assert [c for c in fake.errors() if "/callback" in c.path] == []
    record(
        f"gateway: {len(faults(fake))} drops during a model turn "
        f"({', '.join(faults(fake))}): {fake.resume_count} resumes, "
        f"{fake.identify_count} identifies, each turn delivered once"
    )
