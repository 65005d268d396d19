"""Awaiting a request's work while watching its client: a client that leaves or a deadline that
passes cancels the work, and so frees its rows in the batch."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

from fastapi import Request

from generators.errors import GeneratorTimeout
from generators.service.responses import ClientDisconnected

T = TypeVar("T")


async def until_disconnect(request: Request, work: Coroutine[Any, Any, T], deadline_s: float) -> T:
    """Await `work`, cancelling it (and so freeing its rows) when the client disconnects or the
    deadline passes; returns or raises only once the work has taken its cancellation."""
    task = asyncio.ensure_future(work)
    gone = asyncio.ensure_future(_disconnected(request))
    try:
        async with asyncio.timeout(deadline_s):
            await asyncio.wait({task, gone}, return_when=asyncio.FIRST_COMPLETED)
        if not task.done():
            raise ClientDisconnected
        return task.result()
    except TimeoutError:
        raise GeneratorTimeout(f"the request exceeded the {deadline_s:g} s deadline") from None
    finally:
        gone.cancel()
        task.cancel()
        # Let the work see its cancellation before the answer goes out: side work marks its
        # ticket stopped then, so a worker thread cannot carry on past its next check.
        await asyncio.gather(task, return_exceptions=True)


async def _disconnected(request: Request) -> None:
    while (await request.receive())["type"] != "http.disconnect":
        pass
