"""The terminal's /story edit (and the other storyteller tools): typed as on Discord, answered
in plain lines, refusals printed and the script going on."""

from __future__ import annotations

import io

from engine_testing import FakeClock, FakeGenerator

from bot.console.commands import Session
from bot.console.console import Console
from bot.console.render import Renderer
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


async def test_fork_moves_to_the_fork_and_switch_goes_back(
    storage, moderator, clock: FakeClock
) -> None:
    console, out = await console_over(storage, moderator, clock)
    status = await console.run_script(
        [
            '/story start title:"Tide" genre:mystery',
            "The door hums.",
            "Marta lifts the lantern.",
            "/story fork at:1",
            "Only in the fork.",
            "/story show",
            "/story switch 1",
            "/story show",
        ]
    )
    transcript = out.getvalue()
    assert status == 0, transcript
    assert 'Forked "Tide" at turn #1 into story #2 (1 turns)' in transcript
    fork_page, original_page = transcript.split("Ann> /story show")[1:]
    assert 'Forked from story #1 "Tide", after its turn 1.' in fork_page
    assert "Only in the fork." in fork_page and "Marta" not in fork_page
    assert "Forks: story #2." in original_page and "Only in the fork." not in original_page
