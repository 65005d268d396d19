"""Every public coroutine of the story engine maps storage and generator failures to messages a
person can read (`bot.story.failures.user_errors`): a front end never shows a traceback for a
database that is locked or a generator that is down, whichever command it called."""

from __future__ import annotations

import inspect

from bot.story import StoryEngine
from bot.story.failures import user_errors


async def _probe() -> None:
    return None


WRAPPER_CODE = user_errors(_probe).__code__


def test_every_public_engine_coroutine_maps_user_errors() -> None:
    public = [
        (name, fn)
        for name, fn in inspect.getmembers(StoryEngine, predicate=inspect.isfunction)
        if not name.startswith("_") and inspect.iscoroutinefunction(fn)
    ]
    assert len(public) > 50
    unmapped = [f"{fn.__module__}.{name}" for name, fn in public if fn.__code__ is not WRAPPER_CODE]
    assert unmapped == []
