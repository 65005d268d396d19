"""A cap on request bodies, enforced while they are read: a declared Content-Length over the cap
is refused before a byte is read, and a body without one (chunked) is cut off at the chunk that
crosses it, so the service never buffers more than the cap (a 40 MB body used to be accepted).
"""

from __future__ import annotations

from fastapi import Request
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from generators.service.responses import error_body


class BodyTooLarge(HTTPException):
    """Raised from `receive` once the body passes the cap; FastAPI lets HTTPExceptions through
    its body parsing, and `body_too_large` answers them."""

    def __init__(self, max_bytes: int):
        super().__init__(
            413, f"the request body is larger than {max_bytes} bytes, the most this service accepts"
        )


async def body_too_large(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, BodyTooLarge)
    return JSONResponse(error_body("body_too_large", exc.detail), status_code=413)


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_bytes:
            detail = (
                f"the request body has {int(declared)} bytes; this service accepts at most "
                f"{self.max_bytes}"
            )
            refusal = JSONResponse(error_body("body_too_large", detail), status_code=413)
            await refusal(scope, receive, send)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        await self.app(scope, limited, send)
