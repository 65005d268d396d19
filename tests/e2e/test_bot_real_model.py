"""One whole story with the real default model: an opening, a written turn, a model turn kept
with its button, the end, and the channel, the database and the export telling the same story."""

from __future__ import annotations

from pathlib import Path

from bot_harness import (
    answered,
    assert_discord_rules_kept,
    bot_settings,
    default_model,
    shown_turns,
    stored_turns,
    story_bot,
    turn_ids,
)
from fakediscord import FakeDiscord


async def test_a_whole_story_with_the_default_model(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    fake = fake_discord
    db = tmp_path / "t.db"
    async with story_bot(fake, bot_settings(fake, db, default_model())) as bot:
        options = {
            "title": "The Glass Garden",
            "genre": "fairy_tales",
            "premise": "A princess grows a garden of glass flowers.",
            "opening": True,
        }
        await answered(await fake.slash("alice", "stories", "story", "start", options=options))
        [thread] = fake.threads("stories")
        _card, opening = await fake.wait_until(
            lambda: fake.messages(thread) if len(fake.messages(thread)) == 2 else None
        )
        assert opening.embeds[0]["title"] == "Opening" and opening.embeds[0]["description"]
        # The opening is Alice's to keep or reroll; the table waits for her choice.
        [opening_id] = turn_ids(opening)
        kept = await fake.click("alice", opening, f"tw:keep:{opening_id}")
        await kept.wait_response()
        await answered(await fake.slash("bob", thread, "story", "join"))
        written = await fake.slash(
            "bob", thread, "story", "write", options={"text": "The first flower rang like a bell."}
        )
        await answered(written)
        asked = await fake.slash("alice", thread, "story", "continue")
        [model_turn] = await answered(asked)
        [turn_id] = turn_ids(model_turn)
        assert model_turn.embeds[0]["description"].strip()
        keep = await fake.click("alice", model_turn, f"tw:keep:{turn_id}")
        await keep.wait_response()
        await answered(await fake.slash("alice", thread, "story", "end"))
        [story] = (await bot.engine.list_stories(fake.guild.id)).stories
        export = await bot.engine.export(story_id=story.id)

    stored = await stored_turns(db, story.id)
    assert len(stored) == 3 and stored[1] == "The first flower rang like a bell."
    assert shown_turns(fake, thread) == stored
    assert all(text in export.markdown for text in stored)
    assert_discord_rules_kept(fake)
