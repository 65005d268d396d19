"""HTTP plumbing shared by the REST handlers: body parsing, Discord-style errors, the call log.

discord.py only parses a body as JSON when Content-Type is exactly `application/json`
(aiohttp's `json_response` appends a charset), so every JSON answer goes through `reply`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from .state import RestCall, World

API_PREFIX = "/api/v10"
# Interaction callbacks and webhooks authenticate with their token in the path, like Discord.
TOKEN_IN_PATH = (f"{API_PREFIX}/interactions/", f"{API_PREFIX}/webhooks/")
UNKNOWN_ROUTE = "unknown-route"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Part:
    """One `files[n]` part of a multipart request."""

    filename: str
    data: bytes
    content_type: str


@dataclass
class Body:
    json: Any = None
    uploads: dict[int, Part] = field(default_factory=dict)

    @property
    def object(self) -> dict[str, Any]:
        return self.json if isinstance(self.json, dict) else {}


BODY = web.RequestKey("body", Body)


class DiscordError(Exception):
    """Raised by handlers; rendered as Discord's JSON error body."""

    def __init__(
        self, status: int, code: int, message: str, errors: dict[str, Any] | None = None
    ) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status = status
        self.payload: dict[str, Any] = {"message": message, "code": code}
        if errors:
            self.payload["errors"] = errors


def not_found(what: str, code: int) -> DiscordError:
    return DiscordError(404, code, f"Unknown {what}")


def reply(data: Any, status: int = 200) -> web.Response:
    return web.Response(
        status=status,
        body=json.dumps(data).encode(),
        headers={"Content-Type": "application/json"},
    )


def no_content() -> web.Response:
    return web.Response(status=204)


def body_of(request: web.Request) -> Body:
    return request[BODY]


async def read_body(request: web.Request) -> Body:
    if request.content_type == "multipart/form-data":
        form = await request.post()
        raw_payload = form.get("payload_json")
        payload = json.loads(raw_payload) if isinstance(raw_payload, str) else {}
        uploads: dict[int, Part] = {}
        for name, value in form.items():
            if isinstance(value, web.FileField):
                index = int(name[6:-1]) if name.startswith("files[") else len(uploads)
                uploads[index] = Part(value.filename, value.file.read(), value.content_type)
        return Body(payload, uploads)
    raw = await request.read()
    return Body(json.loads(raw) if raw else None)


def middleware(world: World, token: str) -> Handler:
    """Log every REST call, check the bot token, and render `DiscordError`s."""

    @web.middleware
    async def handle(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path == "/gateway":
            return await handler(request)
        body = await read_body(request)
        call = RestCall(
            method=request.method,
            path=request.path,
            query=dict(request.query),
            json=body.json,
            files=[upload.filename for upload in body.uploads.values()],
            at=time.monotonic(),
            matched=request.match_info.route.name != UNKNOWN_ROUTE,
        )
        world.rest_log.append(call)
        request[BODY] = body
        try:
            if needs_auth(request.path) and request.headers.get("Authorization") != f"Bot {token}":
                raise DiscordError(401, 0, "401: Unauthorized")
            response = await handler(request)
        except DiscordError as error:
            call.error = error.payload
            response = reply(error.payload, error.status)
        except (KeyError, ValueError, TypeError) as error:
            # A body the fake cannot read: answer 400 at once (a 5xx makes discord.py retry
            # with growing sleeps) and keep the reason in the log.
            call.error = {"message": f"Invalid Form Body: {error!r}", "code": 50035}
            response = reply(call.error, 400)
        call.status = response.status
        world.changes.notify()
        return response

    return handle


def needs_auth(path: str) -> bool:
    return path.startswith(API_PREFIX) and not path.startswith(TOKEN_IN_PATH)


async def unknown_route(request: web.Request) -> web.Response:
    raise DiscordError(404, 0, "404: Not Found")
