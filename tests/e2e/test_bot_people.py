"""The rest of the bot's surface: style profiles with their chart, reports and the moderation
queue, server word lists, cooldowns on the model, and a bug answered with an apology."""

from __future__ import annotations

import io
import logging
import re
from pathlib import Path

import pytest
from bot_harness import (
    answered,
    assert_discord_rules_kept,
    bot_settings,
    refusal,
    story_bot,
    turn_ids,
)
from fakediscord import FakeDiscord
from PIL import Image

from bot.discord.tree import APOLOGY


async def test_style_profile_reports_and_moderation(
    fake_discord: FakeDiscord, tiny_checkpoint: Path, tmp_path: Path
) -> None:
    fake = fake_discord
    async with story_bot(fake, bot_settings(fake, tmp_path / "t.db", tiny_checkpoint)):
        options = {"title": "Mod", "genre": "horror_gothic"}
        await answered(await fake.slash("alice", "general", "story", "start", options=options))
        [thread] = fake.threads("general")
        said = await fake.slash("bob", thread, "privacy", "style", options={"choice": "on"})
        await answered(said)  # style memory is opt-in
        for text in ('"Who is there?" cried Ben.', "The candle went out. Then the cold came."):
            await answered(
                await fake.slash("bob", thread, "story", "write", options={"text": text})
            )

        style = await fake.slash("bob", thread, "style", "show")
        [profile] = await answered(style)
        assert (
            profile.ephemeral
            and "2 turns" in profile.content
            and "1 with dialogue" in profile.content
        )
        [chart] = profile.attachments
        assert profile.embeds[0]["image"]["url"] == "attachment://style.png"
        assert Image.open(io.BytesIO(chart.data)).format == "PNG"
        prefs = await fake.slash(
            "bob", thread, "style", "set", options={"length": "short", "tone": "lively"}
        )
        await answered(prefs)
        assert "Preferences: length short, temperature 1.1." in prefs.content
        forget = await fake.slash("bob", thread, "style", "forget")
        await answered(forget)
        assert forget.ephemeral and forget.content.startswith("Forgotten. Deleted 1 style profile")

        [card, first, second] = fake.messages(thread)
        [turn_id] = turn_ids(first)
        report = await fake.context_menu("carol", first, "Report turn")
        assert await refusal(report) == f"Reported turn #{turn_id} to the moderators. Thank you."
        twice = await fake.context_menu("carol", first, "Report turn")
        assert await refusal(twice) == f"You already reported turn #{turn_id}."
        not_turn = await fake.context_menu("carol", card, "Report turn")
        assert "not a story turn" in await refusal(not_turn)

        outsider = await fake.slash("bob", thread, "mod", "queue")
        assert await refusal(outsider) == "Only moderators can do that."
        queue = await fake.slash("alice", thread, "mod", "queue")
        [listed] = await answered(queue)
        assert f"report (report) on turn #{turn_id}" in listed.content
        event_id = int(listed.content.split("**Event ")[1].split("**")[0])
        hide = await fake.slash(
            "alice", thread, "mod", "resolve", options={"event": event_id, "action": "hide"}
        )
        assert "Its message in the channel was removed." in await refusal(hide)
        assert first.deleted and not second.deleted

        rules = await fake.slash(
            "alice", thread, "mod", "settings", options={"block": "zorp, blorp"}
        )
        assert "**Blocked words:** zorp, blorp" in await refusal(rules)
        blocked = await fake.slash("bob", thread, "story", "write", options={"text": "A zorp!"})
        assert "was refused" in await refusal(blocked)
    assert_discord_rules_kept(fake)


async def test_cooldowns_space_model_turns_and_bugs_get_an_apology(
    fake_discord: FakeDiscord,
    tiny_checkpoint: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = fake_discord
    settings = bot_settings(
        fake,
        tmp_path / "t.db",
        tiny_checkpoint,
        generation_cooldown_s=600,
        channel_generation_cooldown_s=300,
    )
    async with story_bot(fake, settings) as bot:
        options = {"title": "Slow", "genre": "science_fiction"}
        await answered(await fake.slash("alice", "general", "story", "start", options=options))
        [thread] = fake.threads("general")
        await answered(await fake.slash("bob", thread, "story", "continue"))
        again = await fake.slash("bob", thread, "story", "continue")
        wait = re.fullmatch(r"Slow down a little: try again in (\d+) s\.", await refusal(again))
        assert wait is not None and 590 <= int(wait[1]) <= 600
        other = await fake.slash("carol", thread, "story", "poem")
        assert "try again in" in await refusal(other)

        async def broken(**_: object) -> None:
            raise RuntimeError("the recap machine broke")

        monkeypatch.setattr(bot.engine, "recap", broken)
        with caplog.at_level(logging.ERROR, logger="talewright.discord"):
            crash = await fake.slash("carol", thread, "story", "recap")
            assert await refusal(crash) == APOLOGY
        [record] = [r for r in caplog.records if "failed in story recap" in r.getMessage()]
        assert record.exc_info is not None and "recap machine broke" in str(record.exc_info[1])

        about = await fake.slash("carol", thread, "talewright", "about")
        assert "Talewright" in await refusal(about)
    assert_discord_rules_kept(fake)
