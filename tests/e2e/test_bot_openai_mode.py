"""The real bot with `[generator] mode = "openai"` against a live `talewright serve` on loopback
(its OpenAI-compatible endpoints, behind an API key): a story is started, continued, a
character speaks (/story say), a twist turns it, a turn is rerolled and kept, and the database
holds exactly what the channel shows. Each model turn asked by a command streams: its
placeholder shows the text as it is written, then becomes the turn with its buttons; a stream
that drops ends in the usual private failure, its placeholder gone, the story as it was."""

from __future__ import annotations

import json
from pathlib import Path

from bot_harness import (
    MODEL_WAIT_S,
    answered,
    assert_discord_rules_kept,
    bot_settings,
    shown_turns,
    stored_turns,
    story_bot,
    turn_ids,
)
from fakediscord import FakeDiscord, Interaction, Message
from fastapi import FastAPI
from fastapi.responses import StreamingResponse
from pydantic import SecretStr

from bot.discord.render import WRITING
from bot.settings import GeneratorSection, ServiceSection
from generators.inference.registry import ModelRegistry
from generators.moderation import Moderator
from generators.service import create_app
from generators.service.live import LiveServer

KEY = "e2e-openai-key"


def openai_service(checkpoint: Path) -> LiveServer:
    """`talewright serve` with the tiny checkpoint as model "tiny", behind KEY."""
    registry = ModelRegistry("cpu")
    registry.load(checkpoint, model_id="tiny")
    section = ServiceSection(
        checkpoints=[checkpoint], threads=1, vae_checkpoint=None, api_key=SecretStr(KEY)
    )
    return LiveServer(
        create_app(section, registry=registry, moderator=Moderator(use_classifier=False))
    )


def openai_settings(fake: FakeDiscord, db: Path, checkpoint: Path, url: str):
    settings = bot_settings(fake, db, checkpoint)
    generator = GeneratorSection(
        mode="openai",
        base_url=f"{url}/v1",
        model="tiny",
        api_key=SecretStr(KEY),
        max_tokens=16,
        candidates=1,
        timeout_s=MODEL_WAIT_S,
    )
    return settings.model_copy(update={"generator": generator})


async def model_turn(fake: FakeDiscord, ix: Interaction) -> tuple[Message, int]:
    """The turn message once it carries its turn id (streamed text may show before it)."""
    [message] = await answered(ix)
    await fake.wait_until(lambda: turn_ids(message), MODEL_WAIT_S, "the finished turn")
    [turn_id] = turn_ids(message)
    return message, turn_id


def streamed(message: Message) -> list[str]:
    """The texts the message showed while its turn was written (the fake keeps every edit)."""
    return [
        r.content.removeprefix(WRITING).strip()
        for r in message.revisions
        if r.content.startswith(WRITING)
    ]


def assert_streamed_then_finished(message: Message) -> None:
    shown = streamed(message)
    assert shown and all(shown), [r.content for r in message.revisions]
    assert WRITING not in message.content and message.components


async def test_the_bot_in_openai_mode_plays_a_story_against_talewright_serve(
    fake_discord: FakeDiscord, tmp_path: Path, tiny_checkpoint: Path
) -> None:
    fake = fake_discord
    db = tmp_path / "t.db"
    with openai_service(tiny_checkpoint) as service:
        settings = openai_settings(fake, db, tiny_checkpoint, service.url)
        async with story_bot(fake, settings) as bot:
            options = {"title": "The Harbour", "genre": "children", "premise": "A lost key"}
            await answered(await fake.slash("alice", "stories", "story", "start", options=options))
            [thread] = fake.threads("stories")
            await bot.engine.character_create(
                fake.guild.id, fake.user("alice").id, "Mira", personality="brave and kind"
            )
            wrote = {"text": "Mira found a key by the harbour."}
            await answered(await fake.slash("alice", thread, "story", "write", options=wrote))

            told, first = await model_turn(
                fake, await fake.slash("alice", thread, "story", "continue")
            )
            assert told.embeds[0]["description"].strip()
            assert_streamed_then_finished(told)
            await fake.click("alice", told, f"tw:reroll:{first}")
            await fake.wait_until(lambda: turn_ids(told) != [first], MODEL_WAIT_S, "a reroll")
            [second] = turn_ids(told)
            assert "alternative 2/2" in told.embeds[0]["footer"]["text"]
            keep = await fake.click("alice", told, f"tw:keep:{second}")
            await keep.wait_response()
            assert told.components == [] and "kept by alice" in told.embeds[0]["footer"]["text"]

            said = await fake.slash("alice", thread, "story", "say", options={"character": "Mira"})
            line, _ = await model_turn(fake, said)
            assert "Mira" in str(line.embeds[0]) and line.embeds[0]["description"].strip()
            assert_streamed_then_finished(line)

            twist = await fake.slash("alice", thread, "story", "twist")
            twisted, twist_id = await model_turn(fake, twist)
            assert twisted.embeds[0]["description"].strip()
            assert_streamed_then_finished(twisted)
            await (await fake.click("alice", twisted, f"tw:keep:{twist_id}")).wait_response()
            [story] = (await bot.engine.list_stories(fake.guild.id)).stories

        shown = shown_turns(fake, thread)
        assert len(shown) == 4 and shown[0] == wrote["text"]

        assert await stored_turns(db, story.id) == shown
        assert_discord_rules_kept(fake)


def dropping_server() -> LiveServer:
    """An OpenAI-compatible server whose chat stream ends after its first words, unfinished."""
    app = FastAPI()

    async def dropped():
        chunk = {"choices": [{"index": 0, "delta": {"content": "The door creaked"}}]}
        yield f"data: {json.dumps(chunk)}\n\n"

    @app.post("/v1/chat/completions")
    async def chat() -> StreamingResponse:
        return StreamingResponse(dropped(), media_type="text/event-stream")

    return LiveServer(app)


async def test_a_dropped_stream_ends_in_the_plain_failure_and_keeps_the_story(
    fake_discord: FakeDiscord, tmp_path: Path, tiny_checkpoint: Path
) -> None:
    fake = fake_discord
    db = tmp_path / "t.db"
    with dropping_server() as server:
        settings = openai_settings(fake, db, tiny_checkpoint, server.url)
        async with story_bot(fake, settings) as bot:
            options = {"title": "Cut Short", "genre": "children"}
            await answered(await fake.slash("alice", "stories", "story", "start", options=options))
            [thread] = fake.threads("stories")
            wrote = {"text": "Mira found a key by the harbour."}
            await answered(await fake.slash("alice", thread, "story", "write", options=wrote))

            asked = await fake.slash("alice", thread, "story", "continue")
            [told] = await fake.wait_until(
                lambda: asked.followups or None, MODEL_WAIT_S, "the failure's message"
            )
            assert told.ephemeral
            assert told.content.startswith("The story generator is not reachable right now")
            placeholder = asked.world.messages[asked.original_id]
            assert placeholder.deleted and streamed(placeholder) == ["The door creaked"]
            [story] = (await bot.engine.list_stories(fake.guild.id)).stories

        assert await stored_turns(db, story.id) == [wrote["text"]]
        assert shown_turns(fake, thread) == [wrote["text"]]
        assert_discord_rules_kept(fake)
