"""The story engine in a terminal, with the Discord commands as text (`talewright play`,
bot/cli/commands_play.py, builds the engine and runs a Console).

One channel in guild 0; the local user is a moderator, and `/as <name>` switches who is typing,
so several people can share a keyboard in round-robin. Lines without a slash are turns.
`--script FILE` runs one command per line and echoes each before its output (the exit status is
non-zero only if a command crashed; user errors are printed and the script goes on); `--demo`
runs the bundled demo session.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from bot.console.commands import COMMANDS, Session, Spec
from bot.console.parse import Command, parse
from bot.console.render import Renderer
from bot.errors import InvalidInput, UserFacingError
from generators.schemas import GENRES, MOODS

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
