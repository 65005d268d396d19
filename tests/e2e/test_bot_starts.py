"""Starting stories: the title is moderated before any thread is opened, starts are spaced per
user and capped per guild an hour, and a thread is deleted only with Manage Threads."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from bot_harness import answered, assert_discord_rules_kept, bot_settings, refusal, story_bot
from fakediscord import FakeDiscord

from bot.errors import UserFacingError

MANAGE_THREADS = 1 << 34


async def test_a_blocked_title_opens_no_thread(
    fake_discord: FakeDiscord, tiny_checkpoint: Path, tmp_path: Path
) -> None:
    fake = fake_discord
    async with story_bot(fake, bot_settings(fake, tmp_path / "t.db", tiny_checkpoint)):
        rules = await fake.slash("alice", "general", "mod", "settings", options={"block": "zorp"})
        await refusal(rules)
        options = {"title": "The Zorp of Doom", "genre": "horror_gothic"}
        blocked = await fake.slash("alice", "general", "story", "start", options=options)
        assert "title or premise" in await refusal(blocked)
        premise = {"title": "Fine", "genre": "horror_gothic", "premise": "a zorp of a king"}
        also = await fake.slash("alice", "general", "story", "start", options=premise)
        assert "title or premise" in await refusal(also)
        assert fake.threads() == []
        assert [c for c in fake.rest_calls if "/threads" in c.path] == []
        assert fake.messages("general") == []
    assert_discord_rules_kept(fake)


async def test_starts_are_spaced_per_user_and_capped_per_guild(
    fake_discord: FakeDiscord, tiny_checkpoint: Path, tmp_path: Path
) -> None:
    fake = fake_discord
    settings = bot_settings(
        fake, tmp_path / "t.db", tiny_checkpoint, start_cooldown_s=600, guild_starts_per_hour=2
    )
    async with story_bot(fake, settings):
        first = {"title": "One", "genre": "horror_gothic"}
        await answered(await fake.slash("alice", "general", "story", "start", options=first))
        again = await fake.slash("alice", "general", "story", "start", options=first)
        wait = re.fullmatch(r"Slow down a little: try again in (\d+) s\.", await refusal(again))
        assert wait is not None and 590 <= int(wait[1]) <= 600
        second = {"title": "Two", "genre": "horror_gothic"}
        await answered(await fake.slash("bob", "general", "story", "start", options=second))
        third = {"title": "Three", "genre": "horror_gothic"}
        capped = await fake.slash("carol", "general", "story", "start", options=third)
        text = await refusal(capped)
        assert re.fullmatch(
            r"This server has started many stories this hour; try again in \d+ s\.", text
        ), text
        assert sorted(t.name for t in fake.threads("general")) == ["One", "Two"]
    assert_discord_rules_kept(fake)


@pytest.mark.parametrize("may_manage", [True, False], ids=["manage threads", "no manage threads"])
async def test_a_start_that_fails_after_its_thread_deletes_it_only_with_manage_threads(
    fake_discord: FakeDiscord,
    tiny_checkpoint: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    may_manage: bool,
) -> None:
    fake = fake_discord
    if not may_manage:
        fake.overwrite("general", fake.bot_user.name, deny=MANAGE_THREADS)
    async with story_bot(fake, bot_settings(fake, tmp_path / "t.db", tiny_checkpoint)) as bot:

        async def fails(*_: object, **__: object) -> None:
            raise UserFacingError("The story database is busy; try again.")

        monkeypatch.setattr(bot.engine, "start", fails)
        options = {"title": "Doomed", "genre": "horror_gothic"}
        failed = await fake.slash("alice", "general", "story", "start", options=options)
        assert await refusal(failed) == "The story database is busy; try again."
        deleted = [c for c in fake.rest_calls if c.method == "DELETE" and "/channels/" in c.path]
        if may_manage:
            assert fake.threads() == [] and len(deleted) == 1
        else:
            assert [t.name for t in fake.threads()] == ["Doomed"] and deleted == []
    assert_discord_rules_kept(fake)
