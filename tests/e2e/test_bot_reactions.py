"""Reactions as a signal through the real bot on the fake Discord: 👍/👎 on a turn's message are
counted per user and shown by /story show, taking one back lowers the count (also after a
restart, when only the database knows which message shows the turn), the bot's own reactions,
other emoji and messages that are not turns are ignored, a guild's own emoji count once a
moderator sets them, and export-feedback writes what was counted."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

from bot_harness import answered, assert_discord_rules_kept, bot_settings, story_bot, turn_ids
from fakediscord import FakeDiscord

from bot.cli.main import main
from bot.discord.client import StoryBot
from storage.models import ReactionCount

WAIT_S = 15.0


async def counted(bot: StoryBot, turn: int, up: int, down: int) -> None:
    """Until the bot has stored these counts for the turn (reactions carry no answer to wait on)."""
    want = {turn: ReactionCount(up, down)} if up or down else {}
    deadline = time.monotonic() + WAIT_S
    while (got := await bot.engine.reaction_counts([turn])) != want:
        assert time.monotonic() < deadline, f"counts {got}, wanted {want}"
        await asyncio.sleep(0.05)


async def shown(fake: FakeDiscord, channel: object) -> str:
    [page] = await answered(await fake.slash("carol", channel, "story", "show"))
    return page.embeds[0]["description"]


async def test_reactions_on_a_turn_are_counted_and_shown(
    fake_discord: FakeDiscord, tiny_checkpoint: Path, tmp_path: Path
) -> None:
    fake = fake_discord
    db = tmp_path / "t.db"
    settings = bot_settings(fake, db, tiny_checkpoint)
    async with story_bot(fake, settings) as bot:
        options = {"title": "Tide", "genre": "mystery"}
        await answered(await fake.slash("alice", "general", "story", "start", options=options))
        [thread] = fake.threads("general")
        wrote = await fake.slash(
            "bob", thread, "story", "write", options={"text": "The door hums."}
        )
        [message] = await answered(wrote)
        [turn] = turn_ids(message)

        await fake.react(fake.bot_user, message, "👍")
        await fake.react("alice", message, "🎉")
        chatter = await fake.send_message("alice", thread, "nice one")
        await fake.react("bob", chatter, "👍")
        await fake.react("alice", message, "👍")
        await fake.react("carol", message, "👍")
        await fake.react("bob", message, "👎")
        await counted(bot, turn, 2, 1)
        assert "👍 2 · 👎 1" in await shown(fake, thread)

        await fake.unreact("carol", message, "👍")
        await counted(bot, turn, 1, 1)
        assert "👍 1 · 👎 1" in await shown(fake, thread)

    async with story_bot(fake, settings) as bot:
        await fake.unreact("alice", message, "👍")
        await counted(bot, turn, 0, 1)
        assert "👍 0 · 👎 1" in await shown(fake, thread)

        refused = await fake.slash("bob", thread, "mod", "reactions", options={"up": "⭐"})
        assert "Only moderators" in (await answered(refused))[0].content
        chose = await fake.slash("alice", thread, "mod", "reactions", options={"up": "⭐"})
        assert "⭐ as up and 👎 as down" in (await answered(chose))[0].content
        await fake.react("carol", message, "⭐")
        await counted(bot, turn, 1, 1)
        assert "⭐ 1 · 👎 1" in await shown(fake, thread)
    assert_discord_rules_kept(fake)

    out = tmp_path / "feedback.jsonl"
    assert await asyncio.to_thread(main, ["export-feedback", str(out), "--db", str(db)]) == 0
    [row] = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert (row["turn_id"], row["text"], row["up"], row["down"]) == (turn, "The door hums.", 1, 1)
