"""`python -m bot` (and `talewright bot`): run the Discord bot.

Settings -> logging -> storage -> generator client -> engine -> StoryBot. The model is loaded
before the bot connects, so the first `/story continue` does not wait for it (a missing
checkpoint is logged; writing works and model turns say the model is unavailable). The token
comes from settings only (`TALEWRIGHT_BOT__TOKEN`) and is never logged; `bot.api_base_url`
points discord.py at another Discord API (tests use a local fake).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import discord
from discord.http import Route

from bot.discord.arguments import add_bot_arguments, shard_overrides
from bot.discord.client import StoryBot
from bot.lazy_generator import LazyGenerator, missing_model_message
from bot.settings import Settings, SettingsError, load_settings
from bot.story import EngineOptions, StoryEngine
from bot.story.style import StoredStyle
from generators.api_keys import read_api_key
from generators.client import Generator, SentenceEmbedder
from generators.http_client import HttpGenerator
from generators.moderation import Moderator
from storage.backends import open_storage_url
from storage.errors import StorageError

log = logging.getLogger("talewright.bot")


async def load_generator(settings: Settings, moderator: Moderator) -> Generator:
    """The configured generator, its models loaded now when they run in this process."""
    section = settings.generator
    if section.mode == "http":
        return HttpGenerator(
            section.urls,
            timeout_s=section.timeout_s,
            retries=section.retries,
            api_key=read_api_key(section.api_key, section.api_key_file, "generator"),
        )
    if section.mode == "openai":
        return openai_generator(settings, moderator)
    missing = [m for path in section.checkpoints if (m := missing_model_message(path))]
    if missing:
        log.warning("model turns are unavailable: %s", "; ".join(missing))
        return LazyGenerator(
            section.checkpoints[0],
            moderator=moderator,
            vae=section.vae_checkpoint,
            retrieval_index=section.retrieval_index,
        )
    from generators.client import InProcessGenerator

    log.info("loading %s", ", ".join(str(path) for path in section.checkpoints))
    return await asyncio.to_thread(
        InProcessGenerator.from_checkpoints,
        list(section.checkpoints),
        device=section.device,
        threads=section.threads,
        moderator=moderator,
        timeout_s=section.timeout_s,
        prompt_budget=section.prompt_budget,
        max_regenerations=settings.moderation.max_regenerations,
        vae=section.vae_checkpoint,
        retrieval_index=section.retrieval_index,
        models=list(section.models),
    )


def openai_generator(settings: Settings, moderator: Moderator) -> Generator:
    """An OpenAI-compatible server; its answers pass this bot's moderation."""
    from generators.openai_backend import OpenAIGenerator

    section = settings.generator
    if not section.model:
        raise SettingsError('[generator] mode = "openai" needs the server\'s model name: model')
    return OpenAIGenerator(
        section.base_url,
        section.model,
        api_key=read_api_key(section.api_key, section.api_key_file, "generator"),
        moderator=moderator,
        timeout_s=section.timeout_s,
        connect_timeout_s=section.connect_timeout_s,
        extra_body=section.extra_body,
        max_regenerations=settings.moderation.max_regenerations,
    )


@asynccontextmanager
async def open_engine(settings: Settings) -> AsyncIterator[StoryEngine]:
    """The story engine over the configured storage and generator, closed afterwards."""
    storage = await open_storage_url(
        settings.storage.storage_url(),
        busy_timeout_s=settings.storage.busy_timeout_s,
        password_file=settings.storage.password_file,
        pool_size=settings.storage.pool_size,
        sole_writer=True,
    )
    try:
        moderator = Moderator(
            use_classifier=settings.moderation.use_classifier,
            classifier_threshold=settings.moderation.classifier_threshold,
        )
        generator = await load_generator(settings, moderator)
        try:
            yield StoryEngine(
                storage,
                generator,
                moderator,
                EngineOptions.from_settings(settings),
                style=StoredStyle(
                    storage.styles,
                    generator if isinstance(generator, SentenceEmbedder) else None,
                ),
            )
        finally:
            await generator.aclose()
    finally:
        await storage.close()


async def run_bot(settings: Settings) -> None:
    """Run until the bot is closed (SIGTERM closes it cleanly)."""
    token = settings.bot.token.get_secret_value().strip() if settings.bot.token else ""
    if not token:
        raise SettingsError("no Discord bot token: set TALEWRIGHT_BOT__TOKEN or [bot] token")
    if settings.bot.api_base_url:
        Route.BASE = settings.bot.api_base_url.rstrip("/")
    async with open_engine(settings) as engine:
        bot = StoryBot(engine, settings.bot)
        async with bot:
            loop = asyncio.get_running_loop()
            closing: list[asyncio.Task[None]] = []
            loop.add_signal_handler(
                signal.SIGTERM, lambda: closing.append(loop.create_task(bot.close()))
            )
            await bot.start(token)


def configure_logging(level: str) -> None:
    root = logging.getLogger()
    if root.handlers:
        root.setLevel(level.upper())
    else:
        logging.basicConfig(
            level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )


def run(config: str | None, overrides: dict[str, Any] | None = None) -> int:
    """Load settings (`overrides` from the command line first) and run the bot; the exit
    status says how it ended."""
    try:
        settings = load_settings(config, **(overrides or {}))
        configure_logging(settings.log_level)
        asyncio.run(run_bot(settings))
    except (SettingsError, StorageError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except discord.LoginFailure:
        print("error: Discord refused the bot token", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Run the Talewright bot.")
    add_bot_arguments(parser)
    args = parser.parse_args(argv)
    return run(args.config, shard_overrides(args))
