"""Memory and lore through the bot: an entry added through the /lore form reaches the model's
request once its key appears in the story (seen by a recording generator), /lore list says
where each entry stands, World Info files go in and out, and bad lorebooks are refused."""

from __future__ import annotations

import json
from pathlib import Path

from bot_harness import answered, assert_discord_rules_kept, bot_settings, story_bot
from fakediscord import FakeDiscord, Upload
from recording import RecordingGenerator


def components(modal: dict) -> dict[str, object]:
    return {
        (c["component"] if "component" in c else c["components"][0])["custom_id"]: (
            c["component"] if "component" in c else c["components"][0]
        ).get("value")
        for c in modal["components"]
    }


async def test_lore_changes_the_prompt_and_books_move_in_and_out(
    fake_discord: FakeDiscord, tiny_checkpoint: Path, tmp_path: Path
) -> None:
    fake = fake_discord
    async with story_bot(fake, bot_settings(fake, tmp_path / "t.db", tiny_checkpoint)) as bot:
        recorder = RecordingGenerator(bot.engine.generator)
        bot.engine.generator = recorder
        options = {"title": "Tide", "genre": "children", "premise": "A door in the sea."}
        await answered(await fake.slash("alice", "general", "story", "start", options=options))
        [thread] = fake.threads("general")

        add = await fake.slash("alice", thread, "lore", "add")
        await add.wait_response()
        assert add.modal is not None and set(components(add.modal)) == {
            "name",
            "keys",
            "text",
            "priority",
        }
        values = {"name": "Door", "keys": "door, gate", "text": "The door hums.", "priority": ""}
        saved = await fake.submit_modal("alice", thread, add.modal["custom_id"], values)
        [shown] = await answered(saved)
        assert shown.content.startswith("**Door** (story lore, priority 100; keys: door, gate)")

        await answered(await fake.slash("alice", thread, "story", "continue"))
        assert recorder.requests[-1].context.lore == []
        written = await fake.slash(
            "alice", thread, "story", "write", options={"text": "Mia knocked on the gate."}
        )
        await answered(written)
        await answered(await fake.slash("alice", thread, "story", "continue"))
        assert recorder.requests[-1].context.lore == ["The door hums."]

        listed = await fake.slash("alice", thread, "lore", "list")
        [listing] = await answered(listed)
        assert "**Door** (story, 100) — in context" in listing.content

        choices = await fake.autocomplete(
            "alice", thread, "lore", "show", focused="name", options={"name": "d"}
        )
        assert [c["value"] for c in choices] == ["Door"]

        memory = await fake.slash("alice", thread, "lore", "memory")
        await memory.wait_response()
        assert memory.modal is not None
        kept = await fake.submit_modal(
            "alice", thread, memory.modal["custom_id"], {"memory": "Mia is brave."}
        )
        await answered(kept)
        await answered(await fake.slash("alice", thread, "story", "continue"))
        assert recorder.requests[-1].context.memory == "Mia is brave."

        exported = await fake.slash("alice", thread, "lore", "export")
        [file_message] = await answered(exported)
        [attachment] = file_message.attachments
        book = json.loads(attachment.data)
        assert [e["comment"] for e in book["entries"].values()] == ["Door"]

        for data, message in [
            (b"{not json", "not valid JSON"),
            (b"[" * 5000 + b"]" * 5000, "nested more than"),
            (json.dumps({"entries": {"0": {"key": ["x"], "content": "hates every faggot"}}}), None),
        ]:
            upload = Upload("book.json", data if isinstance(data, bytes) else data.encode(), "x")
            refused = await fake.slash("alice", thread, "lore", "import", options={"book": upload})
            await answered(refused)
            assert refused.ephemeral
            assert (message or "refused") in refused.content

        book["entries"]["0"]["comment"] = "Gate"
        upload = Upload("book.json", json.dumps(book).encode(), "application/json")
        imported = await fake.slash("alice", thread, "lore", "import", options={"book": upload})
        [done] = await answered(imported)
        assert "1 new, 0 replaced" in done.content

        denied = await fake.slash("bob", thread, "lore", "add")
        await denied.wait_response()
        assert denied.modal is not None
        refused = await fake.submit_modal("bob", thread, denied.modal["custom_id"], values)
        await answered(refused)
        assert "Only the story's owner or a moderator" in refused.content
    assert_discord_rules_kept(fake)
