"""Who can see and act on what, through the real bot: a story in a private channel is not shown,
recapped, exported or listed to members who cannot read that channel; an export by id is
answered privately; and moderation rights over the server come from server-wide permissions,
not from a Manage Messages overwrite in one channel."""

from __future__ import annotations

import json
from pathlib import Path

from bot_harness import answered, assert_discord_rules_kept, bot_settings, refusal, story_bot
from fakediscord import FakeDiscord, Upload

MANAGE_MESSAGES = 1 << 13


async def test_a_private_channels_story_stays_with_its_readers(
    fake_discord: FakeDiscord, tiny_checkpoint: Path, tmp_path: Path
) -> None:
    fake = fake_discord
    club = fake.private_channel("club", readers=("alice",))
    async with story_bot(fake, bot_settings(fake, tmp_path / "t.db", tiny_checkpoint)) as bot:
        options = {"title": "Secret Garden", "genre": "mystery"}
        await answered(await fake.slash("alice", club, "story", "start", options=options))
        [thread] = fake.threads(club)
        secret = "The key is under the third stone."
        wrote = await fake.slash("alice", thread, "story", "write", options={"text": secret})
        await answered(wrote)
        [story] = (await bot.engine.list_stories(fake.guild.id)).stories
        by_id = {"story": story.id}

        for command in ("show", "recap", "export"):
            asked = await fake.slash("bob", "general", "story", command, options=by_id)
            assert f"There is no story with id {story.id} here" in await refusal(asked)
        listing = await fake.slash("bob", "general", "story", "list")
        await answered(listing)
        assert "Secret Garden" not in listing.content

        own = await fake.slash("alice", "general", "story", "list")
        await answered(own)
        assert "Secret Garden" in own.content
        export = await fake.slash("alice", "general", "story", "export", options=by_id)
        [sent] = await answered(export)
        assert export.ephemeral and secret in sent.attachments[0].data.decode()
        everything = [m for m in fake.messages("general") if not m.deleted]
        assert not any(secret in f.data.decode() for m in everything for f in m.attachments)
    assert_discord_rules_kept(fake)


async def test_manage_messages_in_one_channel_is_not_server_moderation(
    fake_discord: FakeDiscord, tiny_checkpoint: Path, tmp_path: Path
) -> None:
    fake = fake_discord
    fake.overwrite("general", "bob", allow=MANAGE_MESSAGES)
    fake.add_user("mia", roles=("Moderator",))
    async with story_bot(fake, bot_settings(fake, tmp_path / "t.db", tiny_checkpoint)):
        queue = await fake.slash("bob", "general", "mod", "queue")
        assert await refusal(queue) == "Only moderators can do that."
        rules = await fake.slash("bob", "general", "mod", "settings", options={"level": "mature"})
        assert await refusal(rules) == "Only moderators can do that."
        by_mod = await fake.slash("mia", "stories", "mod", "queue")
        [shown] = await answered(by_mod)
        assert shown.content == "The moderation queue is empty."

        options = {"title": "Harbour", "genre": "mystery"}
        await answered(await fake.slash("alice", "general", "story", "start", options=options))
        [thread] = fake.threads("general")
        await answered(await fake.slash("carol", thread, "story", "join"))
        paused = await fake.slash("bob", thread, "story", "pause")
        [card] = await answered(paused)
        assert "is paused" in card.content

        card_file = {"spec": "chara_card_v2", "data": {"name": "Pip", "description": "A seal."}}
        upload = Upload("pip.json", json.dumps(card_file).encode(), "application/json")
        await answered(
            await fake.slash("alice", "general", "character", "import", options={"card": upload})
        )
        pip = {"name": "Pip"}
        taken = await fake.slash("bob", "general", "character", "delete", options=pip)
        assert "belongs to someone else" in await refusal(taken)
        removed = await fake.slash("mia", "stories", "character", "delete", options=pip)
        [gone] = await answered(removed)
        assert gone.content == "Deleted **Pip**."
    assert_discord_rules_kept(fake)
