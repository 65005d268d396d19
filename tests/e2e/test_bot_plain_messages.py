"""Plain-message mode: with the message content intent, messages in a story's thread are turns
(table talk in (( )) is not), and round-robin still pings the next writer."""

from __future__ import annotations

from pathlib import Path

from bot_harness import (
    answered,
    assert_discord_rules_kept,
    bot_settings,
    pinged_users,
    stored_turns,
    story_bot,
)
from fakediscord import FakeDiscord

GUILDS, GUILD_MESSAGES, GUILD_MESSAGE_REACTIONS, MESSAGE_CONTENT = 1 << 0, 1 << 9, 1 << 10, 1 << 15


async def test_plain_messages_in_the_thread_are_turns(
    fake_discord: FakeDiscord, tiny_checkpoint: Path, tmp_path: Path
) -> None:
    fake = fake_discord
    alice, bob = fake.user("alice"), fake.user("bob")
    db = tmp_path / "t.db"
    settings = bot_settings(fake, db, tiny_checkpoint, plain_message_mode=True)
    async with story_bot(fake, settings) as bot:
        [session] = fake.gateway.sessions.values()
        assert (
            session.intents == GUILDS | GUILD_MESSAGES | GUILD_MESSAGE_REACTIONS | MESSAGE_CONTENT
        )
        options = {"title": "Plain", "genre": "children", "mode": "round_robin"}
        await answered(await fake.slash("alice", "general", "story", "start", options=options))
        [thread] = fake.threads("general")
        await answered(await fake.slash("bob", thread, "story", "join"))

        first = await fake.send_message("alice", thread, "Lily found a red kite.")
        ping = await fake.wait_for_message(thread, lambda m: m.content.startswith(f"<@{bob.id}>"))
        assert pinged_users(ping) == {str(bob.id)}
        await fake.wait_until(lambda: first.reactions == ["✍️"], what="a reaction")
        await fake.send_message("bob", thread, "(( back in five ))")
        stranger = await fake.send_message("carol", thread, "Can I play?")
        refusal = await fake.wait_for_message(
            thread, lambda m: str((m.message_reference or {}).get("message_id")) == str(stranger.id)
        )
        assert refusal.content == "You have not joined this story; use /story join first."
        await fake.send_message("bob", thread, "It flew over the lake.")
        await fake.wait_for_message(thread, lambda m: m.content.startswith(f"<@{alice.id}>"))
        [story] = (await bot.engine.list_stories(fake.guild.id)).stories
    assert await stored_turns(db, story.id) == ["Lily found a red kite.", "It flew over the lake."]
    assert_discord_rules_kept(fake)
