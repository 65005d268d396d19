"""Helpers for the bot's end-to-end tests: settings for a bot against the fake Discord, the bot
running in this process, and readers for what the channel shows and what the database holds.
(A module of its own, since every test package has a `conftest` and they would shadow each
other as imports.)

The machine these run on may be busy, so waits for model turns are generous; the 3-second
acknowledgement rule is asserted as it is, on every interaction.
"""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from fakediscord import FakeDiscord, Interaction, Message, running_bot

from bot.discord.client import StoryBot
from bot.discord.render import TURN_ID
from bot.discord.run import open_engine
from bot.settings import (
    BotSection,
    GeneratorSection,
    ModerationSection,
    Settings,
    StorageSection,
)
from storage.sqlite import open_storage

ROOT = Path(__file__).resolve().parents[2]
MODEL_WAIT_S = 120.0
"""How long a test waits for a model turn on a loaded machine."""
ACK_DEADLINE_S = 3.0


def bot_settings(fake: FakeDiscord, db: Path, checkpoint: Path, **bot: Any) -> Settings:
    """Settings for a bot against `fake`: commands synced to its guild, no cooldowns, a fast
    deadline clock, a small and quick model configuration, moderation without the classifier."""
    values: dict[str, Any] = {
        "token": fake.token,
        "dev_guild_id": fake.guild.id,
        "api_base_url": fake.api_base_url,
        "generation_cooldown_s": 0,
        "channel_generation_cooldown_s": 0,
        "guild_generations_per_minute": 0,
        "start_cooldown_s": 0,
        "guild_starts_per_hour": 0,
        "deadline_poll_s": 0.5,
    }
    values.update(bot)
    return Settings(
        bot=BotSection(**values),
        storage=StorageSection(path=db),
        generator=GeneratorSection(
            checkpoints=[checkpoint], threads=1, max_tokens=24, candidates=2, timeout_s=MODEL_WAIT_S
        ),
        moderation=ModerationSection(use_classifier=False),
    )


def bot_environment(settings: Settings) -> dict[str, str]:
    """The same settings as `TALEWRIGHT_*` variables, for a bot process."""
    bot = settings.bot
    # Every scalar of the bot section (cooldowns and caps included), so a new setting that
    # bot_settings turns off for tests is off in a bot process too.
    env = {
        f"TALEWRIGHT_BOT__{name.upper()}": str(value).lower()
        if isinstance(value, bool)
        else str(value)
        for name, value in bot.model_dump(exclude={"token"}).items()
        if isinstance(value, str | int | float)
    }
    env |= {
        "TALEWRIGHT_BOT__TOKEN": bot.token.get_secret_value() if bot.token else "",
        "TALEWRIGHT_STORAGE__PATH": str(settings.storage.path),
        "TALEWRIGHT_GENERATOR__CHECKPOINTS": f'["{settings.generator.checkpoints[0]}"]',
        "TALEWRIGHT_GENERATOR__THREADS": "1",
        "TALEWRIGHT_MODERATION__USE_CLASSIFIER": "false",
        "TALEWRIGHT_LOG_LEVEL": "INFO",
    }
    return os.environ | {"PYTHONPATH": str(ROOT)} | env


@asynccontextmanager
async def story_bot(fake: FakeDiscord, settings: Settings) -> AsyncIterator[StoryBot]:
    """The real bot, built as `python -m bot` builds it, connected to `fake` in this process."""
    async with (
        open_engine(settings) as engine,
        running_bot(StoryBot(engine, settings.bot), fake, timeout=60) as bot,
    ):
        yield bot


async def answered(ix: Interaction, count: int = 1, within: float = MODEL_WAIT_S) -> list[Message]:
    """What the person sees once the bot's answer has `count` messages (a deferred answer's
    placeholder replaced)."""

    def done() -> list[Message] | None:
        visible = ix.visible
        if len(visible) < count or any(m.loading for m in visible):
            return None
        return visible

    return await ix.world.changes.wait_for(done, within, f"an answer to interaction {ix.id}")


async def refusal(ix: Interaction) -> str:
    """The private answer to a refused command; nothing public is left of it (a deferred
    command's "thinking" placeholder is gone)."""
    [message] = await answered(ix)
    assert message.ephemeral, message.content
    return message.content


def turn_ids(message: Message) -> list[int]:
    return [
        int(match[1])
        for embed in message.embeds
        if (match := TURN_ID.search(embed.get("footer", {}).get("text", "")))
    ]


def shown_turns(fake: FakeDiscord, channel: Any) -> list[str]:
    """The story as the channel shows it: the text of each turn message, in order."""
    return [
        embed["description"]
        for message in fake.messages(channel)
        if message.author.id == fake.bot_user.id and turn_ids(message)
        for embed in message.embeds
    ]


async def stored_turns(db: Path, story_id: int) -> list[str]:
    """The story's accepted turns as the database holds them, in order."""
    async with await open_storage(db) as storage:
        return [turn.text for turn in await storage.turns.page(story_id, 0, 10_000)]


def assert_discord_rules_kept(fake: FakeDiscord) -> None:
    """Every interaction acknowledged in time, no unsafe ping, no route Discord lacks."""
    late = [
        (
            ix.id,
            ix.payload["data"].get("name") or ix.payload["data"].get("custom_id"),
            ix.ack_latency,
        )
        for ix in fake.interactions
        if ix.ack_latency is None or ix.ack_latency >= ACK_DEADLINE_S
    ]
    assert late == []
    assert fake.unsafe_mentions() == []
    assert fake.unknown_routes() == []


def pinged_users(message: Message) -> set[str]:
    allowed = message.allowed_mentions or {}
    assert allowed.get("parse") == [], allowed
    return {str(user) for user in allowed.get("users", [])}


def default_model() -> Path:
    """The bundled default model, else the training run's best checkpoint."""
    for candidate in (
        ROOT / "generators" / "checkpoints" / "default",
        ROOT / "runs" / "lstm-default" / "best",
    ):
        if (candidate / "config.json").is_file():
            return candidate
    pytest.skip("no default model: generators/checkpoints/default and runs/lstm-default/best")


PYTHON = sys.executable
