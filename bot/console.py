"""`talewright play`: the story engine in a terminal, with the Discord commands as text.

One channel in guild 0; the local user is a moderator, and `/as <name>` switches who is typing,
so several people can share a keyboard in round-robin. Lines without a slash are turns.
`--script FILE` runs one command per line and echoes each before its output (the exit status is
non-zero only if a command crashed; user errors are printed and the script goes on); `--demo`
runs the bundled demo session.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import shutil
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from bot.console_commands import COMMANDS, Session, Spec
from bot.console_parse import Command, parse
from bot.console_render import Renderer
from bot.errors import InvalidInput, UserFacingError
from generators.schemas import GENRES, MOODS

if TYPE_CHECKING:
    from bot.settings import Settings

log = logging.getLogger("talewright.console")

DEMO_SCRIPT = Path(__file__).with_name("demo.script")
GROUPS = frozenset(path[0] for path in COMMANDS if len(path) > 1)
LOCAL_COMMANDS = {
    "as": "as <name>: switch who is typing (each name is its own writer)",
    "help": "help: this list",
    "quit": "quit: leave (also Ctrl-D)",
}


class Quit(Exception):
    """`/quit`: stop reading commands."""


class Console:
    """Runs command lines against one engine and prints what they return (the session types
    model turns out to the same output while they are written)."""

    def __init__(self, session: Session, renderer: Renderer, out: TextIO) -> None:
        session.out = out
        self.session = session
        self.renderer = renderer
        self.out = out
        self.crashed = 0

    def print(self, lines: Iterable[str]) -> None:
        for line in lines:
            print(line, file=self.out)

    async def execute(self, line: str) -> None:
        """Run one line: due deadlines first, then the command; errors are printed."""
        await self._deadlines()
        try:
            self.print(await self._dispatch(line.strip()))
        except UserFacingError as exc:
            self.print([f"error: {exc}"])
        except Quit:
            raise
        except Exception as exc:
            self.crashed += 1
            log.exception("command crashed: %s", line)
            self.print([f"internal error ({type(exc).__name__}: {exc}); this is a bug."])

    async def _deadlines(self) -> None:
        try:
            events = await self.session.engine.process_due()
        except UserFacingError as exc:
            self.print([f"error: {exc}"])
            return
        for event in events:
            self.print(self.renderer.render(event))

    async def _dispatch(self, line: str) -> list[str]:
        if not line.startswith("/"):
            line = f"/story write {line}"
        command = parse(line, GROUPS)
        head = command.path[0]
        if head == "quit":
            raise Quit()
        if head == "help":
            return help_lines()
        if head == "as":
            return self._switch_user(command)
        spec = COMMANDS.get(command.path)
        if spec is None:
            raise InvalidInput(_unknown(command))
        _check_options(spec, command)
        result = await spec.handler(self.session, command)
        return [result] if isinstance(result, str) else self.renderer.render(result)

    def _switch_user(self, command: Command) -> list[str]:
        name = " ".join(command.rest.split())
        if not name:
            return [f"You are {self.session.user_name}."]
        if len(name) > 100 or not name.isprintable():
            raise InvalidInput("A name is one line of at most 100 printable characters.")
        self.session.user_name = name
        return [f"You are now {name}."]

    def prompt(self) -> str:
        return f"{self.session.user_name}> "

    async def run_script(self, lines: Iterable[str]) -> int:
        for raw in lines:
            line = raw.rstrip("\n")
            if not line.strip():
                continue
            if line.lstrip().startswith("#"):
                self.print([line])
                continue
            self.print([f"{self.prompt()}{line}"])
            try:
                await self.execute(line)
            except Quit:
                break
            self.print([""])
        return 1 if self.crashed else 0

    async def run_interactive(self) -> int:
        self.print(["Type /help for the commands, or just write. /quit to leave."])
        while True:
            try:
                line = await asyncio.to_thread(input, self.prompt())
            except EOFError:
                self.print([""])
                break
            if not line.strip():
                continue
            try:
                await self.execute(line)
            except Quit:
                break
        return 1 if self.crashed else 0


def help_lines() -> list[str]:
    lines = ['Commands (options are key:value or key:"quoted value"):']
    group = None
    for spec in COMMANDS.values():
        if spec.path[0] != group:
            group = spec.path[0]
            lines.append(f"  /{group}")
        lines.append(f"    {spec.usage}  — {spec.summary}")
    lines += [f"  /{text}" for text in LOCAL_COMMANDS.values()]
    lines.append("  Text without a slash is your turn (/story write).")
    lines.append(f"  Genres: {', '.join(GENRES)}.")
    lines.append(f"  Moods: {', '.join(MOODS)}.")
    return lines


def _unknown(command: Command) -> str:
    name = "/" + " ".join(command.path)
    if command.path[0] in GROUPS:
        subcommands = sorted(path[1] for path in COMMANDS if path[0] == command.path[0])
        return f"Unknown command {name}; /{command.path[0]} takes {', '.join(subcommands)}."
    return f"Unknown command {name}; type /help for the list."


def _check_options(spec: Spec, command: Command) -> None:
    """Refuse options a command does not take (a typo would otherwise be silently ignored)."""
    if spec.text_key is not None and spec.text_key not in command.options:
        return
    if command.unclosed_quote:
        raise InvalidInput('A quote is not closed; end the quoted value with ".')
    unknown = sorted(set(command.options) - spec.options)
    if unknown:
        takes = ", ".join(sorted(spec.options)) or "no options"
        raise InvalidInput(
            f"/{' '.join(spec.path)} does not take {', '.join(unknown)}; it takes {takes}."
        )


# --- the `play` subcommand ----------------------------------------------------------------


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
    from bot.console_model import LazyGenerator, missing_model_message
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
