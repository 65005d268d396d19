"""The real bot in HTTP mode against a live generation service on loopback: a story longer than
the service accepts in one request gets a continuation, a character's line (/story say), a
poem and a reroll, shown in the channel; then, with the service gone, people read a plain
sentence and keep their text."""

from __future__ import annotations

from pathlib import Path

from bot_harness import (
    MODEL_WAIT_S,
    answered,
    assert_discord_rules_kept,
    bot_settings,
    refusal,
    story_bot,
    turn_ids,
)
from fakediscord import FakeDiscord

from bot.settings import GeneratorSection, ServiceSection
from generators.context_size import MAX_CONTEXT_CHARS
from generators.inference.registry import ModelRegistry
from generators.moderation import Moderator
from generators.service import create_app
from generators.service.live import LiveServer

LONG_TURN = ("The lantern swayed over the quiet harbour while the gulls slept. " * 30)[:1800]


def live_service(checkpoint: Path) -> LiveServer:
    registry = ModelRegistry("cpu")
    registry.load(checkpoint, model_id="tiny")
    section = ServiceSection(checkpoints=[checkpoint], threads=1, vae_checkpoint=None)
    return LiveServer(
        create_app(section, registry=registry, moderator=Moderator(use_classifier=False))
    )


def http_settings(fake: FakeDiscord, db: Path, checkpoint: Path, url: str):
    settings = bot_settings(fake, db, checkpoint)
    generator = GeneratorSection(
        mode="http", urls=[url], max_tokens=16, candidates=1, timeout_s=MODEL_WAIT_S, retries=0
    )
    return settings.model_copy(update={"generator": generator})


async def test_the_bot_in_http_mode_writes_continue_say_and_poem_for_a_long_story(
    fake_discord: FakeDiscord, tmp_path: Path, tiny_checkpoint: Path
) -> None:
    fake = fake_discord
    service = live_service(tiny_checkpoint).start()
    try:
        settings = http_settings(fake, tmp_path / "t.db", tiny_checkpoint, service.url)
        async with story_bot(fake, settings) as bot:
            options = {"title": "The Harbour", "genre": "children", "premise": "A lost key"}
            await answered(await fake.slash("alice", "stories", "story", "start", options=options))
            [thread] = fake.threads("stories")
            await bot.engine.character_create(
                fake.guild.id, fake.user("alice").id, "Mira", personality="brave and kind"
            )
            turns = 2 * MAX_CONTEXT_CHARS // len(LONG_TURN) + 2
            for _ in range(turns):
                await bot.engine.write(thread.id, fake.user("alice").id, "alice", LONG_TURN)

            [told] = await answered(await fake.slash("alice", thread, "story", "continue"))
            [turn_id] = turn_ids(told)
            assert told.embeds[0]["description"].strip()
            await fake.click("alice", told, f"tw:reroll:{turn_id}")
            await fake.wait_until(lambda: turn_ids(told) != [turn_id], MODEL_WAIT_S, "a reroll")
            assert "alternative 2/2" in told.embeds[0]["footer"]["text"]
            said = await fake.slash("alice", thread, "story", "say", options={"character": "Mira"})
            [line] = await answered(said)
            assert "Mira" in str(line.embeds[0]) and line.embeds[0]["description"].strip()
            poem = await fake.slash("alice", thread, "story", "poem", options={"theme": "the sea"})
            [verse] = await answered(poem)
            assert verse.embeds[0]["description"].strip()

            service.stop()
            down = await refusal(await fake.slash("alice", thread, "story", "continue"))
            assert down.startswith("The story generator is not reachable right now")
            assert service.url not in down and "Error" not in down
        assert_discord_rules_kept(fake)
    finally:
        service.stop()
