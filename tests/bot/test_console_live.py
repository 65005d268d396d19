"""`talewright play` types a model turn out while it is written, when the generator can stream:
the pieces on a "writing…" line, in order, then the turn as usual; a generator that cannot
stream prints nothing extra, and a dropped stream ends in the usual failure message."""

from __future__ import annotations

import io

from engine_testing import FakeClock, FakeGenerator

from bot.console.commands import Session
from bot.console.console import Console
from bot.console.live import WRITING, LiveLine
from bot.console.render import Renderer
from bot.story import EngineOptions, StoryEngine
from generators.client import StreamingGenerator
from generators.errors import GeneratorUnavailable
from generators.schemas import GenerateRequest, GenerateResponse

PIECES = ("The door ", "The door creaked ", "The door creaked open.")
START = '/story start title:"Doors" genre:mystery'


class StreamingFake(FakeGenerator):
    """Streams PIECES, writing a mark to `out` after each, then answers with the last;
    `drop` fails after the first piece."""

    def __init__(self, out: io.StringIO, *, drop: bool = False) -> None:
        super().__init__([PIECES[-1]])
        self.out = out
        self.drop = drop

    async def stream(self, request: GenerateRequest, on_text) -> GenerateResponse:
        for number, piece in enumerate(PIECES, 1):
            await on_text(piece)
            self.out.write(f"<{number}>")
            if self.drop:
                raise GeneratorUnavailable("the model server dropped the stream")
        return await self.generate(request)


async def console_with(generator, storage, moderator, clock: FakeClock, out: io.StringIO):
    engine = StoryEngine(storage, generator, moderator, EngineOptions(), clock=clock)
    return Console(Session(engine, "Ann"), Renderer(80, clock), out), engine


async def test_pieces_are_typed_out_in_order_before_the_turn(
    storage, moderator, clock: FakeClock
) -> None:
    out = io.StringIO()
    generator = StreamingFake(out)
    assert isinstance(generator, StreamingGenerator)
    console, engine = await console_with(generator, storage, moderator, clock, out)
    assert await console.run_script([START, "/story continue"]) == 0
    transcript = out.getvalue()
    typed = f"Ann> /story continue\n{WRITING}The door <1>creaked <2>open.<3>\n"
    assert typed in transcript
    after = transcript[transcript.index(typed) + len(typed) :]
    assert f"    {PIECES[-1]}" in after
    waiting = await engine.pending(console.session.channel_id)
    assert waiting is not None and waiting.text == PIECES[-1]


async def test_a_generator_that_cannot_stream_prints_nothing_extra(
    storage, moderator, clock: FakeClock
) -> None:
    out = io.StringIO()
    console, _ = await console_with(FakeGenerator([PIECES[-1]]), storage, moderator, clock, out)
    assert await console.run_script([START, "/story poem", "/story say Old Tom"]) == 0
    transcript = out.getvalue()
    assert "writing" not in transcript
    assert "Ann> /story poem\n  #1" in transcript


async def test_a_dropped_stream_ends_the_line_and_prints_the_failure(
    storage, moderator, clock: FakeClock
) -> None:
    out = io.StringIO()
    generator = StreamingFake(out, drop=True)
    console, engine = await console_with(generator, storage, moderator, clock, out)
    assert await console.run_script([START, "Ann's own turn.", "/story twist"]) == 0
    transcript = out.getvalue()
    assert f"Ann> /story twist\n{WRITING}The door <1>\nerror: " in transcript
    page = await engine.show(channel_id=console.session.channel_id)
    assert [t.text for t in page.turns] == ["Ann's own turn."] and page.pending is None


async def test_a_turn_started_over_goes_on_a_fresh_line() -> None:
    out = io.StringIO()
    line = LiveLine(out)
    show = line.turn().show
    for text in ("A cat ", "A cat sat.", "", "A dog ", "A dog ran."):
        await show(text)
    line.end()
    line.end()
    assert out.getvalue() == f"{WRITING}A cat sat.\n{WRITING}A dog ran.\n"
