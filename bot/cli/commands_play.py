"""`talewright play`: the terminal front end (bot/console) over a story engine built from the
settings: the configured storage, or a scratch database for `--demo`, and the model loaded on
the first model turn."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from bot.console.commands import Session
from bot.console.console import DEMO_SCRIPT, Console
from bot.console.render import Renderer

if TYPE_CHECKING:
    from bot.settings import Settings


def add_play_command(sub: argparse._SubParsersAction) -> None:
    play = sub.add_parser("play", help="play a story in the terminal")
    play.add_argument("--db", help="story database (default: settings storage.path)")
    play.add_argument("--script", help="run the commands in FILE, one per line, and exit")
    play.add_argument("--demo", action="store_true", help="run the bundled demo session")
    play.add_argument("--config", help="config.toml to read settings from")
    play.add_argument(
        "--model",
        "--checkpoint",
        dest="model",
        help="lstm, transformer or a model folder (default: settings generator.checkpoints)",
    )
    play.add_argument("--user", help="your name in the story (default: your login name)")
    play.set_defaults(func=run_play)


def run_play(args: argparse.Namespace) -> int:
    from bot.settings import SettingsError, load_settings

    try:
        settings = load_settings(args.config)
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.script and args.demo:
        print("error: use --script or --demo, not both", file=sys.stderr)
        return 2
    try:
        lines = _script_lines(args)
    except OSError as exc:
        print(f"error: cannot read {args.script}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    return asyncio.run(_play(args, settings, lines))


def _script_lines(args: argparse.Namespace) -> list[str] | None:
    if args.demo:
        return DEMO_SCRIPT.read_text(encoding="utf-8").splitlines()
    if args.script:
        return Path(args.script).read_text(encoding="utf-8").splitlines()
    return None


async def _play(args: argparse.Namespace, settings: Settings, lines: list[str] | None) -> int:
    from bot.lazy_generator import LazyGenerator, missing_model_message
    from bot.story import EngineOptions, StoryEngine
    from bot.story.style import StoredStyle
    from generators.moderation import Moderator
    from generators.paths import model_folder
    from storage.backends import open_storage_url, shown_url
    from storage.errors import StorageError

    with tempfile.TemporaryDirectory(prefix="talewright-demo-") as scratch:
        db_url = _db_url(args, settings, Path(scratch))
        try:
            storage = await open_storage_url(
                db_url,
                busy_timeout_s=settings.storage.busy_timeout_s,
                password_file=settings.storage.password_file,
                pool_size=settings.storage.pool_size,
                sole_writer=True,
            )
        except StorageError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        moderator = Moderator(
            use_classifier=settings.moderation.use_classifier,
            classifier_threshold=settings.moderation.classifier_threshold,
        )
        checkpoint = model_folder(args.model) if args.model else settings.generator.checkpoints[0]
        generator = LazyGenerator(
            checkpoint,
            moderator=moderator,
            threads=settings.generator.threads,
            timeout_s=settings.generator.timeout_s,
            prompt_budget=settings.generator.prompt_budget,
            max_regenerations=settings.moderation.max_regenerations,
            vae=settings.generator.vae_checkpoint,
            retrieval_index=settings.generator.retrieval_index,
        )
        engine = StoryEngine(
            storage,
            generator,
            moderator,
            EngineOptions.from_settings(settings),
            style=StoredStyle(storage.styles, generator),
            clock=time.time,
        )
        width = min(100, shutil.get_terminal_size((100, 24)).columns - 1)
        session = Session(engine, args.user or _login_name())
        console = Console(session, Renderer(width), sys.stdout)
        problem = missing_model_message(checkpoint)
        if problem:
            print(f"note: {problem}. Writing turns by hand works; model turns will not.")
        print(f"Stories are kept in {shown_url(db_url)}.")
        try:
            if lines is None:
                return await console.run_interactive()
            return await console.run_script(lines)
        finally:
            await generator.aclose()
            await storage.close()


def _db_url(args: argparse.Namespace, settings: Settings, scratch: Path) -> str:
    """The storage URL: --db (a file); else a scratch file for --demo (never your own
    stories); else the configured one."""
    from storage.backends import sqlite_url

    if args.db:
        return sqlite_url(Path(args.db).expanduser())
    if args.demo:
        return sqlite_url(scratch / "demo.db")
    if settings.storage.url:
        return settings.storage.url
    path = settings.storage.path
    path.parent.mkdir(parents=True, exist_ok=True)
    return sqlite_url(path)


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "writer"
