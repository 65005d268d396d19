"""A model turn shown while it is written: only generators that can stream show it, each piece
passes moderation first and no more often than asked, the stored turn is the finished text,
and a stream that drops fails like any generator failure with the writers' turns kept."""

from __future__ import annotations

import pytest
from engine_testing import ANN, CHANNEL, FakeClock, FakeGenerator, start_story

from bot.errors import GeneratorDown
from bot.story import StoryEngine
from bot.story.guard import Checked
from bot.story.live_text import LiveTurn, ShownText
from generators.client import StreamingGenerator
from generators.errors import GeneratorUnavailable
from generators.schemas import GenerateRequest, GenerateResponse, ModerationVerdict

PIECES = ("The door ", "The door creaked ", "The door creaked open.")


class StreamingFake(FakeGenerator):
    """Streams PIECES before answering with the last; `drop` fails after the first piece."""

    def __init__(self, *, drop: bool = False) -> None:
        super().__init__([PIECES[-1]])
        self.drop = drop

    async def stream(self, request: GenerateRequest, on_text) -> GenerateResponse:
        for piece in PIECES:
            await on_text(piece)
            if self.drop:
                raise GeneratorUnavailable("the model server dropped the stream")
        return await self.generate(request)


class Recorder:
    def __init__(self) -> None:
        self.shown: list[str] = []

    async def __call__(self, text: str) -> None:
        self.shown.append(text)


def verdict(text: str) -> Checked:
    name = "block" if "creaked" in text else "allow"
    return Checked(ModerationVerdict(verdict=name), text, ())


async def test_pieces_are_shown_at_most_every_interval_and_stop_at_a_blocked_one() -> None:
    clock = FakeClock(0.0)
    seen = Recorder()
    shown = ShownText(LiveTurn(seen, every_s=1.5), verdict, clock)
    await shown("   ")
    await shown("The ")
    await shown("The door ")
    assert seen.shown == ["The "]
    clock.advance(1.5)
    await shown("The door ")
    clock.advance(1.5)
    await shown("The door creaked ")
    clock.advance(1.5)
    await shown("The door creaked open, and more.")
    assert seen.shown == ["The ", "The door "]


async def test_a_streaming_generator_shows_the_turn_and_the_finished_text_is_stored(
    storage, moderator, clock
) -> None:
    generator = StreamingFake()
    assert isinstance(generator, StreamingGenerator)
    engine = StoryEngine(storage, generator, moderator, clock=clock)
    await start_story(engine)
    seen = Recorder()
    result = await engine.ai_turn(CHANNEL, ANN, live=LiveTurn(seen, every_s=0))
    assert seen.shown == list(PIECES)
    assert result.turn.text == PIECES[-1]


async def test_a_generator_that_cannot_stream_answers_as_before(engine) -> None:
    assert not isinstance(FakeGenerator(), StreamingGenerator)
    await start_story(engine)
    seen = Recorder()
    result = await engine.ai_turn(CHANNEL, ANN, live=LiveTurn(seen, every_s=0))
    assert seen.shown == [] and result.turn.text.startswith("Model continue number 1")


async def test_a_dropped_stream_fails_plainly_and_keeps_the_written_turn(
    storage, moderator, clock
) -> None:
    engine = StoryEngine(storage, StreamingFake(drop=True), moderator, clock=clock)
    await start_story(engine)
    await engine.write(CHANNEL, ANN, "Ann", "My turn, safe and sound.")
    seen = Recorder()
    with pytest.raises(GeneratorDown):
        await engine.ai_turn(CHANNEL, ANN, live=LiveTurn(seen, every_s=0))
    assert seen.shown == [PIECES[0]]
    page = await engine.show(channel_id=CHANNEL)
    assert [t.text for t in page.turns] == ["My turn, safe and sound."] and page.pending is None
