"""Storyteller tools through the real bot on the fake Discord: editing a kept turn (a form filled
with its text, its message updated, its history in /story show), forking a story into a new
thread, and reactions counted per turn. Someone else's turn and a story one cannot see are
refused."""

from __future__ import annotations

from pathlib import Path

from bot_harness import (
    answered,
    assert_discord_rules_kept,
    bot_settings,
    refusal,
    shown_turns,
    story_bot,
    turn_ids,
)
from fakediscord import FakeDiscord


async def test_an_edited_turn_shows_its_new_text_and_history(
    fake_discord: FakeDiscord, tiny_checkpoint: Path, tmp_path: Path
) -> None:
    fake = fake_discord
    async with story_bot(fake, bot_settings(fake, tmp_path / "t.db", tiny_checkpoint)):
        options = {"title": "Tide", "genre": "mystery"}
        await answered(await fake.slash("alice", "general", "story", "start", options=options))
        [thread] = fake.threads("general")
        wrote = await fake.slash(
            "bob", thread, "story", "write", options={"text": "The door hums at low tide."}
        )
        [message] = await answered(wrote)
        [turn] = turn_ids(message)
        later = {"text": "Marta lifts the lantern."}
        await answered(await fake.slash("alice", thread, "story", "write", options=later))

        refused = await fake.slash("carol", thread, "story", "edit", options={"turn": turn})
        assert f"Turn #{turn} is someone else's" in await refusal(refused)

        opened = await fake.slash("bob", thread, "story", "edit", options={"turn": turn})
        await opened.wait_response()
        modal = opened.modal
        assert modal is not None and f"Edit turn #{turn}" in modal["title"]
        new_text = {"text": "The old door hums at low tide."}
        submitted = await fake.submit_modal("bob", thread, modal["custom_id"], new_text)
        [said] = await answered(submitted)
        assert f"edited turn #{turn}" in said.content
        await fake.wait_until(
            lambda: (
                shown_turns(fake, thread)
                == ["The old door hums at low tide.", "Marta lifts the lantern."]
            ),
            what="the turn's message shows the new text",
        )
        assert "edited" in fake.message(message.id).embeds[0]["footer"]["text"]

        show = await fake.slash("carol", thread, "story", "show")
        [page] = await answered(show)
        text = page.embeds[0]["description"]
        assert "The old door hums at low tide." in text
        assert "(edited once)" in text and "The door hums at low tide." in text
    assert_discord_rules_kept(fake)


async def test_a_fork_opens_a_thread_with_the_story_so_far(
    fake_discord: FakeDiscord, tiny_checkpoint: Path, tmp_path: Path
) -> None:
    fake = fake_discord
    club = fake.private_channel("club", readers=("alice",))
    async with story_bot(fake, bot_settings(fake, tmp_path / "t.db", tiny_checkpoint)) as bot:
        options = {"title": "Tide", "genre": "mystery"}
        await answered(await fake.slash("alice", "general", "story", "start", options=options))
        [thread] = fake.threads("general")
        ids = []
        for text in ("The door hums.", "Marta lifts the lantern.", "Something answers."):
            wrote = await fake.slash("alice", thread, "story", "write", options={"text": text})
            ids += turn_ids((await answered(wrote))[0])

        forked = await fake.slash("bob", thread, "story", "fork", options={"at": ids[1]})
        [said] = await answered(forked)
        assert f"at turn #{ids[1]}" in said.content
        [_, fork_thread] = fake.threads("general")
        await fake.wait_until(
            lambda: (
                shown_turns(fake, fork_thread) == ["The door hums.", "Marta lifts the lantern."]
            ),
            what="the story so far in the fork's thread",
        )
        card = fake.messages(fork_thread)[0]
        # Discord shows an escaped "\\#" as "#".
        assert 'Forked from story #1 "Tide"' in card.content.replace("\\", "")
        assert card.embeds[0]["author"]["name"] == "Forked story"
        assert len(shown_turns(fake, thread)) == 3

        show = await fake.slash("alice", thread, "story", "show")
        [page] = await answered(show)
        assert "Forks: story #2." in page.embeds[0]["description"].replace("\\", "")

        secret = {"title": "Secret Garden", "genre": "mystery"}
        await answered(await fake.slash("alice", club, "story", "start", options=secret))
        [club_thread] = fake.threads(club)
        hidden = {"text": "The key is under the third stone."}
        await answered(await fake.slash("alice", club_thread, "story", "write", options=hidden))
        stories = (await bot.engine.list_stories(fake.guild.id)).stories
        [private] = [s for s in stories if s.title == "Secret Garden"]
        refused = await fake.slash("bob", "general", "story", "fork", options={"story": private.id})
        assert f"There is no story with id {private.id} here" in await refusal(refused)
        assert len(fake.threads("general")) == 2
    assert_discord_rules_kept(fake)
