"""Helpers for the engine tests: a clock the test moves and generators with known behaviour."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Sequence

from generators.errors import GeneratorError
from generators.schemas import Candidate, GenerateRequest, GenerateResponse, ModelInfo
from storage.models import StorySettings

GUILD = 77
CHANNEL = 500
ANN, BEN, CAT = 1, 2, 3


class FakeClock:
    """Unix time that moves only when a test says so."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class FakeGenerator:
    """A Generator with scripted output: each call returns the next text of `texts` (cycling),
    or a numbered line naming the kind; `error` makes every call raise, `delay` makes it slow."""

    def __init__(
        self,
        texts: Sequence[str] = (),
        *,
        model: str = "fake-1",
        candidates: int = 1,
        delay: float = 0.0,
        error: GeneratorError | None = None,
    ) -> None:
        self.texts = itertools.cycle(texts) if texts else None
        self.model = model
        self.candidates = candidates
        self.delay = delay
        self.error = error
        self.requests: list[GenerateRequest] = []
        self.calls = itertools.count(1)

    async def generate(self, request: GenerateRequest) -> GenerateResponse:
        self.requests.append(request)
        number = next(self.calls)
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.error is not None:
            raise self.error
        texts = [self._text(request, number, i) for i in range(self.candidates)]
        return GenerateResponse(
            text=texts[0],
            candidates=[Candidate(text=t, score=-1.0 - i / 10) for i, t in enumerate(texts)],
            model=self.model,
            kind=request.kind,
        )

    def _text(self, request: GenerateRequest, number: int, index: int) -> str:
        if self.texts is not None:
            return next(self.texts)
        suffix = f" (candidate {index + 1})" if index else ""
        return f"Model {request.kind} number {number}{suffix} carried the tale onward."

    async def list_models(self) -> list[ModelInfo]:
        return []

    async def aclose(self) -> None:
        return None


async def start_story(
    engine, owner: int = ANN, name: str = "Ann", *, ai_opening: bool = False, **settings
):
    """Start the test story in CHANNEL of GUILD; `settings` override its StorySettings."""
    values = {"title": "The Lantern", "genre": "fantasy_adventure", "premise": "A door in the sea"}
    values.update(settings)
    return await engine.start(
        GUILD, CHANNEL, owner, name, StorySettings(**values), ai_opening=ai_opening
    )
