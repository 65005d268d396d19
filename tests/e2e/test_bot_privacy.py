"""`/privacy` on Discord: style memory only after saying yes, a private JSON copy of one's
data, and a deletion that waits for its button and says what it kept."""

from __future__ import annotations

import json
from pathlib import Path

from bot_harness import answered, bot_settings, story_bot
from fakediscord import FakeDiscord

TEXT = "The door creaks open."


async def test_privacy_style_export_and_delete(
    fake_discord: FakeDiscord, tiny_checkpoint: Path, tmp_path: Path
) -> None:
    fake = fake_discord
    async with story_bot(fake, bot_settings(fake, tmp_path / "t.db", tiny_checkpoint)):
        options = {"title": "Private", "genre": "mystery"}
        await answered(await fake.slash("alice", "general", "story", "start", options=options))
        [thread] = fake.threads("general")
        said = await fake.slash("bob", thread, "privacy", "style", options={"choice": "on"})
        [choice] = await answered(said)
        assert choice.ephemeral and "Style memory is on for you here" in choice.content
        await answered(await fake.slash("bob", thread, "story", "write", options={"text": TEXT}))

        [sent] = await answered(await fake.slash("bob", thread, "privacy", "export"))
        assert sent.ephemeral
        [attachment] = sent.attachments
        data = json.loads(attachment.data)
        assert [turn["text"] for turn in data["turns"]] == [TEXT]
        assert data["style_profile"]["stats"]["turns"] == 1 and data["style_memory"] is True

        [warning] = await answered(await fake.slash("bob", thread, "privacy", "delete"))
        assert warning.ephemeral and "cannot be undone" in warning.content
        buttons = {
            item["label"]: item["custom_id"]
            for row in warning.components
            for item in row["components"]
        }
        assert set(buttons) == {"Delete my data", "Cancel"}
        await fake.click("bob", warning, buttons["Delete my data"])
        await fake.world.changes.wait_for(
            lambda: warning.content.startswith("Done") or None, 10, "the deletion's answer"
        )
        assert "Kept, so the stories stay readable" in warning.content

        [after] = await answered(await fake.slash("bob", thread, "privacy", "export"))
        assert json.loads(after.attachments[0].data)["turns"] == []
        assert any(TEXT in json.dumps(m.embeds) + m.content for m in fake.messages(thread))
