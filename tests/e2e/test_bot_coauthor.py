"""The model as a co-author on Discord: the owner gives it a seat, and when its turn comes the
bot writes it by itself (announced, not pinged), keeps it, and hands the turn to the next
member; taking the seat away stops it."""

from __future__ import annotations

from pathlib import Path

from bot_harness import (
    MODEL_WAIT_S,
    answered,
    assert_discord_rules_kept,
    bot_settings,
    pinged_users,
    shown_turns,
    stored_turns,
    story_bot,
)
from fakediscord import FakeDiscord


async def test_the_models_seat_writes_on_its_turn_and_the_rotation_goes_on(
    fake_discord: FakeDiscord, tiny_checkpoint: Path, tmp_path: Path
) -> None:
    fake = fake_discord
    alice, bob = fake.user("alice"), fake.user("bob")
    db = tmp_path / "t.db"
    async with story_bot(fake, bot_settings(fake, db, tiny_checkpoint)) as bot:
        options = {"title": "Seats", "genre": "mystery", "mode": "round_robin"}
        await answered(await fake.slash("alice", "general", "story", "start", options=options))
        [thread] = fake.threads("general")
        seat = await fake.slash("alice", thread, "story", "settings", options={"model_seat": True})
        [card] = await answered(seat)
        fields = {field["name"]: field["value"] for field in card.embeds[0]["fields"]}
        assert fields["Model's seat"] == "yes (narration)"
        await answered(await fake.slash("bob", thread, "story", "join"))

        wrote = await fake.slash(
            "alice", thread, "story", "write", options={"text": "Alice opens the door."}
        )
        [turn] = await answered(wrote)
        assert turn.embeds[0]["description"] == "Alice opens the door."

        model = await fake.wait_for_message(thread, "✍️", timeout=MODEL_WAIT_S)
        assert model.content.startswith("✍️ The model wrote its turn. It's bob's turn.")
        assert f"<@{bob.id}>, it's your turn in **Seats**" in model.content
        assert pinged_users(model) == {str(bob.id)}
        assert "in its own seat" in model.embeds[0]["footer"]["text"]
        model_text = model.embeds[0]["description"]

        second = await fake.slash("bob", thread, "story", "write", options={"text": "Bob follows."})
        _, ping = await answered(second, 2)
        assert pinged_users(ping) == {str(alice.id)}

        off = await fake.slash("alice", thread, "story", "settings", options={"model_seat": False})
        await answered(off)
        third = await fake.slash("alice", thread, "story", "write", options={"text": "Alice ends."})
        _, ping = await answered(third, 2)
        assert pinged_users(ping) == {str(bob.id)}
        [story] = (await bot.engine.list_stories(fake.guild.id)).stories

    expected = ["Alice opens the door.", model_text, "Bob follows.", "Alice ends."]
    assert await stored_turns(db, story.id) == expected
    assert shown_turns(fake, thread) == expected
    assert len([m for m in fake.messages(thread) if m.content.startswith("✍️")]) == 1
    assert_discord_rules_kept(fake)
