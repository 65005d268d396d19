"""The buttons under a model turn: reroll votes ("1/3 votes"), swipes between alternatives,
who may choose, Keep, and a Twist that moves the story on."""

from __future__ import annotations

from pathlib import Path

from bot_harness import answered, assert_discord_rules_kept, bot_settings, story_bot, turn_ids
from fakediscord import FakeDiscord
from fakediscord.messages import buttons


async def test_a_reroll_needs_a_majority_and_swipes_choose_between_alternatives(
    fake_discord: FakeDiscord, tiny_checkpoint: Path, tmp_path: Path
) -> None:
    fake = fake_discord
    fake.add_user("dave")
    settings = bot_settings(fake, tmp_path / "talewright.db", tiny_checkpoint)
    async with story_bot(fake, settings) as bot:
        options = {"title": "Votes", "genre": "mystery", "reroll": "vote"}
        await answered(await fake.slash("alice", "general", "story", "start", options=options))
        [thread] = fake.threads("general")
        for name in ("bob", "carol"):
            await answered(await fake.slash(name, thread, "story", "join"))

        asked = await fake.slash("bob", thread, "story", "continue")
        [shown] = await answered(asked)
        [first] = turn_ids(shown)

        vote = await fake.click("bob", shown, f"tw:reroll:{first}")
        [counted] = await vote.wait_followups(1)
        assert counted.ephemeral
        assert counted.content == "Your vote to reroll counts: 1/3 votes, 2 needed within 60 s."
        assert [b.label for b in buttons(shown)][1] == "Reroll · 1/3 votes"
        assert turn_ids(shown) == [first]

        await fake.click("carol", shown, f"tw:reroll:{first}")
        await fake.wait_until(lambda: turn_ids(shown) != [first], 120, "the rerolled turn")
        [second] = turn_ids(shown)
        assert shown.content == "Reroll vote passed (2/3 votes)."
        assert "alternative 2/2" in shown.embeds[0]["footer"]["text"]

        stranger = await fake.click("dave", shown, f"tw:prev:{second}")
        await stranger.wait_response()
        assert stranger.ephemeral and "Only the person who asked for this turn" in stranger.content
        back = await fake.click("bob", shown, f"tw:prev:{second}")
        await back.wait_response()
        assert turn_ids(shown) == [first]
        disabled = {b.label: b.disabled for b in buttons(shown)}
        assert disabled["◀"] and not disabled["▶"]
        first_text = shown.embeds[0]["description"]

        keep = await fake.click("bob", shown, f"tw:keep:{first}")
        await keep.wait_response()
        assert shown.components == [] and "kept by bob" in shown.embeds[0]["footer"]["text"]

        again = await fake.slash("carol", thread, "story", "continue")
        [pending] = await answered(again)
        [pending_id] = turn_ids(pending)
        twist = await fake.click("alice", pending, f"tw:twist:{pending_id}")
        [twisted] = await answered(twist)
        assert twisted.embeds[0]["title"] == "Plot twist"
        assert (
            twisted.content
            == f"Kept turn #{pending_id}, the alternative shown, as the story moved on."
        )
        await fake.wait_until(lambda: pending.components == [], what="buttons off the kept turn")

        page = await bot.engine.show(channel_id=thread.id)
        assert [t.text for t in page.turns][:2] == [first_text, pending.embeds[0]["description"]]
    assert_discord_rules_kept(fake)
