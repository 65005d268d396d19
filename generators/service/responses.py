"""HTTP answers for failures: one JSON shape, `{"error": code, "detail": text}`, whose status and
code the HTTP client maps back to the same exceptions the in-process generator raises."""

from __future__ import annotations

import math

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.responses import Response

from generators.errors import (
    ContextTooLarge,
    GenerationFailed,
    GeneratorError,
    GeneratorOverloaded,
    GeneratorTimeout,
    GeneratorUnavailable,
    InvalidGenerationRequest,
    NoDiscriminator,
    NoSentenceModel,
    UnknownModel,
)

CLIENT_CLOSED = 499
"""nginx's status for a client that went away; logged and counted, never delivered."""


class ClientDisconnected(Exception):
    """The client went away before its answer was ready; its rows were already freed."""


_STATUS: list[tuple[type[GeneratorError], int, str]] = [
    (NoSentenceModel, 404, "no_sentence_model"),
    (UnknownModel, 404, "unknown_model"),
    (ContextTooLarge, 413, "context_too_large"),
    (NoDiscriminator, 422, "no_discriminator"),
    (InvalidGenerationRequest, 422, "invalid_request"),
    (GenerationFailed, 500, "generation_failed"),
    (GeneratorOverloaded, 503, "overloaded"),
    (GeneratorTimeout, 504, "timeout"),
    (GeneratorUnavailable, 503, "unavailable"),
]


def error_body(code: str, detail: str, **extra) -> dict:
    return {"error": code, "detail": detail, **extra}


def status_of(exc: GeneratorError) -> tuple[int, str]:
    """The HTTP status and error code a generator failure is answered with."""
    for kind, status, code in _STATUS:
        if isinstance(exc, kind):
            return status, code
    return 500, "internal"


async def generator_error(request: Request, exc: Exception) -> Response:
    for kind, status, code in _STATUS:
        if isinstance(exc, kind):
            headers = {}
            if isinstance(exc, GeneratorOverloaded):
                headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after)))
            return JSONResponse(error_body(code, str(exc)), status_code=status, headers=headers)
    return JSONResponse(error_body("internal", str(exc)), status_code=500)


async def validation_error(request: Request, exc: Exception) -> Response:
    """422 whose detail names each bad field the way it is written in the JSON body."""
    assert isinstance(exc, RequestValidationError)
    fields, problems = [], []
    for error in exc.errors():
        field = ".".join(str(part) for part in error["loc"] if part != "body")
        if error["type"] == "json_invalid" or not field:
            field = "body"
        fields.append(field)
        problems.append(f"{field}: {error['msg']}")
    return JSONResponse(
        error_body("invalid_request", "; ".join(problems), fields=fields), status_code=422
    )


async def client_disconnected(request: Request, exc: Exception) -> Response:
    return Response(status_code=CLIENT_CLOSED)
