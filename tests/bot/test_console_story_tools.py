"""The terminal's /story edit (and the other storyteller tools): typed as on Discord, answered
in plain lines, refusals printed and the script going on."""

from __future__ import annotations

import io

from engine_testing import FakeClock, FakeGenerator

from bot.console import Console
from bot.console_commands import Session
from bot.console_render import Renderer
from bot.story import EngineOptions, StoryEngine


async def console_over(storage, moderator, clock: FakeClock) -> tuple[Console, io.StringIO]:
    engine = StoryEngine(storage, FakeGenerator(), moderator, EngineOptions(), clock=clock)
    out = io.StringIO()
    return Console(Session(engine, "Ann"), Renderer(80, clock), out), out


async def test_edit_a_turn_and_read_its_history(storage, moderator, clock: FakeClock) -> None:
    console, out = await console_over(storage, moderator, clock)
    status = await console.run_script(
        [
            '/story start title:"Tide" genre:mystery',
            "The door hums.",
            "/story edit 1 The old door hums: softly.",
            "/story edit one two",
            "/story show",
        ]
    )
    transcript = out.getvalue()
    assert status == 0
    assert "Turn #1 now reads:\nThe old door hums: softly." in transcript
    assert "error: Say which turn and its new text" in transcript
    assert "(edited once)" in transcript
    assert "version 1, before Ann's edit: The door hums." in transcript
