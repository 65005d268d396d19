"""Books on Discord: `/story export format:epub` sends an EPUB that a standard parser opens, to
the channel for the story here and privately for a story asked for by id."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from bot_harness import answered, assert_discord_rules_kept, bot_settings, story_bot
from ebooklib import epub
from fakediscord import FakeDiscord


async def test_an_epub_export_arrives_as_an_attachment_that_opens(
    fake_discord: FakeDiscord, tiny_checkpoint: Path, tmp_path: Path
) -> None:
    fake = fake_discord
    async with story_bot(fake, bot_settings(fake, tmp_path / "t.db", tiny_checkpoint)) as bot:
        options = {"title": "Ink & <Salt>", "genre": "mystery"}
        await answered(await fake.slash("alice", "general", "story", "start", options=options))
        [thread] = fake.threads("general")
        for text in ("The ink dried.", "The salt <b>stayed</b>."):
            wrote = await fake.slash("alice", thread, "story", "write", options={"text": text})
            await answered(wrote)
        here = await fake.slash("bob", thread, "story", "export", options={"format": "epub"})
        [shown] = await answered(here)
        [story] = (await bot.engine.list_stories(fake.guild.id)).stories
        by_id = await fake.slash(
            "bob", "general", "story", "export", options={"format": "epub", "story": story.id}
        )
        [private] = await answered(by_id)

    assert shown.content.endswith("as an EPUB book.") and not shown.ephemeral
    assert private.ephemeral, "a story asked for by id comes privately"
    for message in (shown, private):
        [book] = message.attachments
        assert book.filename == f"ink-salt-{story.id}.epub"
        with zipfile.ZipFile(io.BytesIO(book.data)) as archive:
            assert archive.infolist()[0].filename == "mimetype"
            chapter = archive.read("EPUB/chapter-1.xhtml").decode("utf-8")
        assert "The ink dried." in chapter and "&lt;b&gt;stayed&lt;/b&gt;" in chapter
        path = tmp_path / "book.epub"
        path.write_bytes(book.data)
        assert epub.read_epub(str(path)).get_metadata("DC", "title")[0][0] == "Ink & <Salt>"
    assert_discord_rules_kept(fake)
