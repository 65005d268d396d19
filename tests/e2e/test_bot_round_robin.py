"""A whole round-robin story through the real bot: three writers, refusals, pings, a model
turn with rerolls and swipes, text that tries to ping everyone, an export and the end."""

from __future__ import annotations

from pathlib import Path

from bot_harness import (
    answered,
    assert_discord_rules_kept,
    bot_settings,
    pinged_users,
    refusal,
    shown_turns,
    stored_turns,
    story_bot,
    turn_ids,
)
from fakediscord import FakeDiscord


async def test_three_writers_take_turns_and_the_channel_matches_the_database(
    fake_discord: FakeDiscord, tiny_checkpoint: Path, tmp_path: Path
) -> None:
    fake = fake_discord
    db = tmp_path / "talewright.db"
    alice, bob, carol = fake.user("alice"), fake.user("bob"), fake.user("carol")
    moderators = fake.role("Moderator")
    async with story_bot(fake, bot_settings(fake, db, tiny_checkpoint)) as bot:
        options = {
            "title": "The Lantern",
            "genre": "fantasy_adventure",
            "premise": "A door opens in the sea.",
            "mode": "round_robin",
            "turn_timeout": 3600,
        }
        start = await fake.slash("alice", "stories", "story", "start", options=options)
        [started] = await answered(start)
        [thread] = fake.threads("stories")
        assert thread.type == 11 and thread.name == "The Lantern"
        assert (
            started.content
            == f"Started **The Lantern** in {thread.mention}: the story lives there."
        )
        [card] = fake.messages(thread)
        assert card.embeds[0]["title"] == "The Lantern"

        for name in ("bob", "carol"):
            await answered(await fake.slash(name, thread, "story", "join"))

        early = await fake.slash(
            "carol", thread, "story", "write", options={"text": "Carol jumps in."}
        )
        assert await refusal(early) == "It's alice's turn; wait for them to write theirs."

        first = await fake.slash(
            "alice", thread, "story", "write", options={"text": "The lantern woke."}
        )
        turn, ping = await answered(first, 2)
        assert turn.embeds[0]["description"] == "The lantern woke."
        assert ping.content.startswith(f"<@{bob.id}>, it's your turn in **The Lantern** (due <t:")
        assert pinged_users(ping) == {str(bob.id)}

        model = await fake.slash("bob", thread, "story", "continue")
        shown, ping = await answered(model, 2)
        assert model.response is not None and model.response.type == 5
        assert [b.label for b in model.buttons] == ["Keep", "Reroll", "◀", "▶", "Twist"]
        assert pinged_users(ping) == {str(carol.id)}
        [turn_id] = turn_ids(shown)

        refused = await fake.click("bob", shown, f"tw:reroll:{turn_id}")
        await refused.wait_followups(1)
        assert "Only the story's owner or a moderator can reroll" in refused.content
        reroll = await fake.click("alice", shown, f"tw:reroll:{turn_id}")
        await fake.wait_until(lambda: "alternative 2/2" in shown.embeds[0]["footer"]["text"], 120)
        assert reroll.response is not None and reroll.response.type == 6
        [second_id] = turn_ids(shown)
        back = await fake.click("alice", shown, f"tw:prev:{second_id}")
        await back.wait_response()
        assert (
            turn_ids(shown) == [turn_id] and "alternative 1/2" in shown.embeds[0]["footer"]["text"]
        )
        forward = await fake.click("alice", shown, f"tw:next:{turn_id}")
        await forward.wait_response()
        kept_text = shown.embeds[0]["description"]

        loud = f"@everyone <@&{moderators.id}> look <@{alice.id}>! The tide turned."
        echo = await fake.slash("carol", thread, "story", "write", options={"text": loud})
        turn, ping = await answered(echo, 2)
        assert turn.embeds[0]["description"] == loud
        assert (
            turn.content == f"Kept turn #{second_id}, the alternative shown, as the story moved on."
        )
        assert pinged_users(ping) == {str(alice.id)}
        await fake.wait_until(lambda: shown.components == [], what="buttons off the kept turn")
        assert "kept by carol" in shown.embeds[0]["footer"]["text"]

        final = await fake.slash(
            "alice", thread, "story", "write", options={"text": "They sailed home."}
        )
        await answered(final)
        end = await fake.slash("alice", thread, "story", "end")
        await answered(end)
        [story] = (await bot.engine.list_stories(fake.guild.id)).stories
        export = await fake.slash("bob", thread, "story", "export", options={"story": story.id})
        [exported] = await answered(export)
        [markdown] = exported.attachments
        expected = await bot.engine.export(story_id=story.id)

    story_turns = ["The lantern woke.", kept_text, loud, "They sailed home."]
    assert await stored_turns(db, story.id) == story_turns
    assert shown_turns(fake, thread) == story_turns
    assert (markdown.filename, markdown.data.decode()) == (expected.filename, expected.markdown)
    document = expected.markdown
    positions = [document.index(text) for text in story_turns]
    assert positions == sorted(positions)
    assert_discord_rules_kept(fake)
