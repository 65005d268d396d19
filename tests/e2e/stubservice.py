"""A stand-in for the generation service on loopback: the `/v1/generate` contract of
`talewright serve`, answered by a test's rules (at once, after a delay, held until released,
503 overloaded), so fault tests decide when a model request is in flight and how it ends.

Every answer's text is unique ("... (reply 7)"), so a turn stored twice shows as a duplicate.
In a test: `async with StubService() as service`; the bot's generator settings point at
`service.url`. As a process (to be killed with SIGKILL): `python stubservice.py PORT_FILE MODE`
writes its port to PORT_FILE, and a line "request" to stdout for each generate request.
"""

# ruff: noqa: ASYNC109, ASYNC240 -- a test says how long it waits; the process writes its port.

from __future__ import annotations

import asyncio
import socket
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

from aiohttp import web

from generators.schemas import Candidate, GenerateResponse, Kind

Mode = Literal["answer", "hold", "slow", "overloaded"]
MODEL_ID = "stub"


@dataclass
class StubService:
    """`mode` decides the next answers: `answer` after `delay_s`, `hold` until `release()`,
    `slow` after `slow_s` (past any deadline a test sets), `overloaded` 503 + Retry-After."""

    mode: Mode = "answer"
    delay_s: float = 0.0
    slow_s: float = 600.0
    requests: list[dict[str, Any]] = field(default_factory=list)
    """Each request's JSON body, as sent (read leniently: the contract is not under test)."""
    answered: int = 0
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)
    _release: asyncio.Event = field(default_factory=asyncio.Event)
    _runner: web.AppRunner | None = None
    url: str = ""

    async def __aenter__(self) -> StubService:
        await self.start()
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def start(self, port: int = 0) -> None:
        sock = socket.socket()
        sock.bind(("127.0.0.1", port))
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        app = web.Application()
        app.router.add_post("/v1/generate", self._generate)
        app.router.add_get("/readyz", self._ok)
        app.router.add_get("/healthz", self._ok)
        app.router.add_post("/v1/embed", self._no_sentence_model)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
        await self._runner.setup()
        await web.SockSite(self._runner, sock).start()

    async def stop(self) -> None:
        self.release()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def set(self, mode: Mode) -> None:
        """Answer the next requests this way (requests already held stay held)."""
        self.mode = mode
        if mode != "hold":
            self.release()
        else:
            self._release = asyncio.Event()

    def release(self) -> None:
        """Let every held request answer."""
        self._release.set()

    async def wait_request(self, count: int, timeout: float = 60.0) -> dict[str, Any]:
        """Until `count` requests have arrived in all; the latest of them."""
        async with asyncio.timeout(timeout):
            while len(self.requests) < count:
                self._arrived.clear()
                await self._arrived.wait()
        return self.requests[count - 1]

    async def _generate(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append(body)
        self._arrived.set()
        mode = self.mode
        if mode == "overloaded":
            error = {"error": "overloaded", "detail": "the queue is full"}
            return web.json_response(error, status=503, headers={"Retry-After": "1"})
        if mode == "hold":
            await self._release.wait()
        elif mode == "slow":
            await asyncio.sleep(self.slow_s)
        elif self.delay_s:
            await asyncio.sleep(self.delay_s)
        self.answered += 1
        return web.json_response(_answer(body, self.answered).model_dump(mode="json"))

    async def _ok(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def _no_sentence_model(self, request: web.Request) -> web.Response:
        error = {"error": "no_sentence_model", "detail": "no sentence model"}
        return web.json_response(error, status=404)


def _answer(request: dict[str, Any], serial: int) -> GenerateResponse:
    text = f"The lanterns along the quay glowed, one by one, over the quiet water (reply {serial})."
    candidates = [Candidate(text=text, score=-1.0, tokens=16)]
    kind: Kind = request.get("kind", "continue")
    return GenerateResponse(text=text, candidates=candidates, model=MODEL_ID, kind=kind)


async def _serve(port_file: Path, mode: Mode) -> None:
    service = StubService(mode=mode)
    original = service._generate

    async def announced(request: web.Request) -> web.Response:
        print("request", flush=True)
        return await original(request)

    service._generate = announced  # type: ignore[method-assign]
    await service.start()
    port_file.write_text(service.url.rsplit(":", 1)[1])
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(_serve(Path(sys.argv[1]), sys.argv[2]))  # type: ignore[arg-type]
