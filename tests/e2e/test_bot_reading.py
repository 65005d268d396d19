"""Reading and running a story through the bot: pages with ◀ ▶, a recap, the list, settings,
pause and resume, undo (its message goes too) and a story played in the channel itself."""

from __future__ import annotations

from pathlib import Path

from bot_harness import (
    answered,
    assert_discord_rules_kept,
    bot_settings,
    refusal,
    shown_turns,
    stored_turns,
    story_bot,
)
from fakediscord import FakeDiscord
from fakediscord.messages import buttons


async def test_pages_recap_settings_pause_and_undo(
    fake_discord: FakeDiscord, tiny_checkpoint: Path, tmp_path: Path
) -> None:
    fake = fake_discord
    db = tmp_path / "t.db"
    async with story_bot(fake, bot_settings(fake, db, tiny_checkpoint)) as bot:
        options = {"title": "Pages", "genre": "children", "premise": "A kite in the park."}
        await answered(await fake.slash("alice", "general", "story", "start", options=options))
        [thread] = fake.threads("general")
        for number in range(1, 8):
            text = f"Turn {number} happened. Then more happened."
            await answered(
                await fake.slash("bob", thread, "story", "write", options={"text": text})
            )

        show = await fake.slash("carol", thread, "story", "show")
        [page] = await answered(show)
        assert show.ephemeral and page.embeds[0]["footer"]["text"].endswith("page 2 of 2 · 7 turns")
        assert [(b.label, b.disabled) for b in buttons(page)] == [("◀", False), ("▶", True)]
        earlier = await fake.click("carol", page, buttons(page)[0].custom_id or "")
        await earlier.wait_response()
        assert "page 1 of 2" in page.embeds[0]["footer"]["text"]
        assert page.embeds[0]["description"].startswith("Turn 1 happened.")

        recap = await fake.slash("carol", thread, "story", "recap", options={"turns": 2})
        await answered(recap)
        assert recap.ephemeral and recap.content.splitlines() == [
            "Recap of **Pages** (7 turns kept):",
            "- Turn 6 happened. — *bob*",
            "- Turn 7 happened. — *bob*",
        ]
        listing = await fake.slash("carol", "general", "story", "list")
        await answered(listing)
        assert "**Pages** — Children, active" in listing.content

        shown = await fake.slash("bob", thread, "story", "settings")
        await answered(shown)
        assert shown.ephemeral
        refused = await fake.slash("bob", thread, "story", "settings", options={"mood": "tense"})
        assert "Only the story's owner or a moderator" in await refusal(refused)
        changed = await fake.slash("alice", thread, "story", "settings", options={"mood": "tense"})
        [card] = await answered(changed)
        assert not changed.ephemeral and card.embeds[0]["author"]["name"] == "Settings changed"

        await answered(await fake.slash("alice", thread, "story", "pause"))
        paused = await fake.slash("bob", thread, "story", "write", options={"text": "Hello?"})
        assert "paused" in await refusal(paused)
        await answered(await fake.slash("alice", thread, "story", "resume"))

        undo = await fake.slash("alice", thread, "story", "undo")
        await answered(undo)
        assert undo.content.startswith("Removed turn #")
        [story] = (await bot.engine.list_stories(fake.guild.id)).stories
        await fake.wait_until(
            lambda: len(shown_turns(fake, thread)) == 6, what="undone message gone"
        )
        assert shown_turns(fake, thread) == await stored_turns(db, story.id)

        here = await fake.slash(
            "carol", thread, "story", "start", options={"title": "Two", "genre": "poetry"}
        )
        assert "already has a story" in await refusal(here)
        assert fake.threads("general") == [thread]
    assert_discord_rules_kept(fake)


async def test_a_story_started_inside_a_thread_is_played_there(
    fake_discord: FakeDiscord, tiny_checkpoint: Path, tmp_path: Path
) -> None:
    fake = fake_discord
    async with story_bot(fake, bot_settings(fake, tmp_path / "t.db", tiny_checkpoint)) as bot:
        options = {"title": "Outer", "genre": "mystery"}
        await answered(await fake.slash("alice", "general", "story", "start", options=options))
        [thread] = fake.threads("general")
        await answered(await fake.slash("alice", thread, "story", "end"))
        inner = await fake.slash(
            "bob", thread, "story", "start", options={"title": "Inner", "genre": "mystery"}
        )
        [card] = await answered(inner)
        assert card.embeds[0]["title"] == "Inner" and fake.threads("general") == [thread]
        [story] = [
            s for s in (await bot.engine.list_stories(fake.guild.id)).stories if s.title == "Inner"
        ]
        assert (story.channel_id, story.thread_id) == (fake.channel("general").id, thread.id)
    assert_discord_rules_kept(fake)
