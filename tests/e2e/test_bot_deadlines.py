"""Round-robin deadlines on Discord: a writer's time runs out and the model writes for them; and
a deadline that passes while the bot is down is handled by the next bot process, whose
persistent buttons still work on the messages the first one posted."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from bot_harness import (
    PYTHON,
    ROOT,
    answered,
    assert_discord_rules_kept,
    bot_environment,
    bot_settings,
    pinged_users,
    story_bot,
    turn_ids,
)
from fakediscord import FakeDiscord

from storage.sqlite import open_storage

TURN_S = 10
"""The shortest turn time the engine allows."""
PROCESS_START_S = 300.0
"""A bot process on a loaded machine can take minutes to import and connect."""


async def test_the_model_writes_for_a_writer_whose_time_ran_out(
    fake_discord: FakeDiscord, tiny_checkpoint: Path, tmp_path: Path
) -> None:
    fake = fake_discord
    bob = fake.user("bob")
    async with story_bot(fake, bot_settings(fake, tmp_path / "t.db", tiny_checkpoint)):
        options = {
            "title": "Clock",
            "genre": "mystery",
            "mode": "round_robin",
            "turn_timeout": TURN_S,
            "timeout_action": "ai",
        }
        await answered(await fake.slash("alice", "general", "story", "start", options=options))
        [thread] = fake.threads("general")
        await answered(await fake.slash("bob", thread, "story", "join"))
        timed_out = await fake.wait_for_message(thread, "⏰", timeout=TURN_S + 120)
        assert timed_out.content.startswith(
            "⏰ alice's time ran out, so the model wrote their turn. It's bob's turn."
        )
        assert (
            "written for alice when their turn timed out" in timed_out.embeds[0]["footer"]["text"]
        )
        assert f"<@{bob.id}>, it's your turn in **Clock**" in timed_out.content
        assert pinged_users(timed_out) == {str(bob.id)}
    assert_discord_rules_kept(fake)


async def test_a_deadline_missed_while_the_bot_was_down_is_handled_after_a_restart(
    fake_discord: FakeDiscord, tiny_checkpoint: Path, tmp_path: Path
) -> None:
    fake = fake_discord
    alice = fake.user("alice")
    db = tmp_path / "t.db"
    settings = bot_settings(fake, db, tiny_checkpoint)
    async with story_bot(fake, settings):
        options = {"title": "Restart", "genre": "fairy_tales", "mode": "round_robin"}
        options["turn_timeout"] = TURN_S
        await answered(await fake.slash("alice", "general", "story", "start", options=options))
        [thread] = fake.threads("general")
        await answered(await fake.slash("bob", thread, "story", "join"))
        asked = await fake.slash("alice", thread, "story", "continue")
        shown, _ = await answered(asked, 2)
        [pending] = turn_ids(shown)

    async with await open_storage(db) as storage:
        [story] = await storage.stories.list_for_guild(fake.guild.id)
    assert story.turn_deadline is not None
    await asyncio.sleep(max(0.0, story.turn_deadline - time.time() + 0.5))

    # Skipping a turn and keeping a shown alternative need no model, so the second process uses
    # the HTTP generator (nothing listens) and starts without importing torch.
    env = bot_environment(settings) | {
        "TALEWRIGHT_GENERATOR__MODE": "http",
        "TALEWRIGHT_GENERATOR__URLS": '["http://127.0.0.1:9"]',
    }
    log = tmp_path / "bot.log"
    with log.open("wb") as output:
        process = await asyncio.create_subprocess_exec(
            PYTHON, "-m", "bot", cwd=ROOT, env=env, stdout=output, stderr=output
        )
    try:
        timed_out = await fake.wait_for_message(thread, "⏰", timeout=PROCESS_START_S)
        assert timed_out.content.startswith(
            "⏰ bob's time ran out, so their turn was skipped. It's alice's turn."
        )
        assert pinged_users(timed_out) == {str(alice.id)}
        assert fake.identify_count == 2
        keep = await fake.click("alice", shown, f"tw:keep:{pending}")
        await keep.wait_response()
        assert shown.components == [] and "kept by alice" in shown.embeds[0]["footer"]["text"]
    finally:
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 60)
        except TimeoutError:
            process.kill()
            await process.wait()
    assert process.returncode == 0, log.read_text()
    assert fake.token not in log.read_text()
    assert_discord_rules_kept(fake)
