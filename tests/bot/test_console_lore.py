"""/lore and /story memory in the terminal: the same engine operations as on Discord."""

from __future__ import annotations

import io
import json
from pathlib import Path

from engine_testing import FakeClock, FakeGenerator

from bot.console.commands import Session
from bot.console.console import Console
from bot.console.render import Renderer
from bot.story import EngineOptions, StoryEngine


async def test_lore_commands_in_the_terminal(storage, moderator, clock: FakeClock, tmp_path: Path):
    generator = FakeGenerator()
    engine = StoryEngine(storage, generator, moderator, EngineOptions(), clock=clock)
    out = io.StringIO()
    console = Console(Session(engine, "Ann"), Renderer(80, clock), out)
    book = tmp_path / "book.json"
    status = await console.run_script(
        [
            "/story start title:Tide genre:mystery",
            "/story memory Marta keeps the door.",
            "/lore add name:Door keys:door,gate priority:5 The door hums.",
            "/story write Ann opens the gate.",
            "/story continue",
            "/lore list",
            f"/lore export {book}",
            "/lore remove Door",
            f"/lore import {book}",
            "/lore show door",
        ]
    )
    transcript = out.getvalue()
    assert status == 0, transcript
    assert generator.requests[-1].context.memory == "Marta keeps the door."
    assert generator.requests[-1].context.lore == ["The door hums."]
    assert "Door (story, priority 5; keys: door, gate) [in context]: The door hums." in transcript
    assert json.loads(book.read_text())["entries"]["0"]["comment"] == "Door"
    assert "Imported: 1 new, 0 replaced, 0 skipped." in transcript
