"""OpenAI-compatible endpoints beside the native API, served by the same GenerationEngine and
batching scheduler (no second queue), moderated the same way, behind the same API key.

POST /v1/completions       a prompt continued as a story (generators.service.openai_schemas)
POST /v1/chat/completions  messages as a story; a system message may carry hints
GET  /v1/models            `{"object": "list", "data": [...]}`; each model's Talewright facts
                           (family, parameters, vocab_size, default, card) under `talewright`

`stream: true` answers with server-sent events (`data: {chunk}` lines, then `data: [DONE]`);
see generators.service.streaming for how streamed text is moderated. Failures answer in
OpenAI's shape, `{"error": {"message", "type", "param", "code"}}`, with the native API's status.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import TypeVar

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import ValidationError
from starlette.responses import Response

from generators.errors import GeneratorError, GeneratorOverloaded, GeneratorUnavailable
from generators.inference.orchestration import GenerationEngine
from generators.inference.prompts import build_prompt
from generators.inference.registry import ServedModel
from generators.schemas import GenerateRequest, GenerateResponse, ModerationLevel
from generators.service.openai_schemas import (
    BadHint,
    ChatRequest,
    CompletionRequest,
    OpenAIRequest,
    chat_story,
    completion_story,
)
from generators.service.responses import ClientDisconnected, status_of
from generators.service.streaming import StoryStream, stop_cut
from generators.service.waiting import until_disconnect

PATHS = frozenset({"/v1/completions", "/v1/chat/completions"})
Body = TypeVar("Body", bound=OpenAIRequest)
"""The request body of one endpoint: a completion or a chat."""
ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    404: "invalid_request_error",
    413: "invalid_request_error",
    422: "invalid_request_error",
    429: "rate_limit_error",
    503: "service_unavailable",
    504: "timeout",
}
STREAM_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def openai_error(
    status: int, message: str, *, code: str | None = None, param: str | None = None, **headers
) -> JSONResponse:
    error = {
        "message": message,
        "type": ERROR_TYPES.get(status, "server_error"),
        "param": param,
        "code": code,
    }
    return JSONResponse({"error": error}, status_code=status, headers=headers or None)


def from_generator_error(exc: GeneratorError) -> JSONResponse:
    status, code = status_of(exc)
    if code == "unknown_model":
        code = "model_not_found"
    headers = {}
    if isinstance(exc, GeneratorOverloaded):
        headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after)))
    return openai_error(status, str(exc), code=code, **headers)


def mount_openai(
    app: FastAPI, *, level: ModerationLevel, deadline_s: float, models: Callable[[], list]
) -> None:
    """Add the OpenAI-compatible routes; `models` lists the loaded models (ModelInfo)."""

    @app.post("/v1/completions")
    async def completions(request: Request) -> Response:
        return await _answer(request, CompletionRequest, completion_story, chat=False)

    @app.post("/v1/chat/completions")
    async def chat_completions(request: Request) -> Response:
        return await _answer(request, ChatRequest, chat_story, chat=True)

    @app.get("/v1/models")
    async def list_models() -> dict:
        return {
            "object": "list",
            "data": [
                {
                    "id": info.id,
                    "object": "model",
                    "created": 0,
                    "owned_by": "talewright",
                    "talewright": info.model_dump(),
                }
                for info in models()
            ],
        }

    async def _answer(
        request: Request,
        schema: type[Body],
        to_story: Callable[[Body, ModerationLevel], GenerateRequest],
        *,
        chat: bool,
    ) -> Response:
        try:
            body = schema.model_validate_json(await request.body())
            story = to_story(body, level)
        except ValidationError as exc:
            return _invalid(exc)
        except BadHint as exc:
            return openai_error(400, str(exc), code="invalid_hint", param="messages")
        service = getattr(request.app.state, "service", None)
        try:
            if service is None:
                raise GeneratorUnavailable("the service is starting")
            served = service.check(story)
            if body.stream:
                stream = await StoryStream.open(service, story, served, body.stops)
                events = _events(stream, body, served, chat=chat, deadline_s=deadline_s)
                return StreamingResponse(
                    events, media_type="text/event-stream", headers=STREAM_HEADERS
                )
            work = service.generate(story)
            answer = await until_disconnect(request, work, deadline_s)
            return JSONResponse(await _completion(service, served, story, answer, body, chat=chat))
        except GeneratorError as exc:
            return from_generator_error(exc)
        except ClientDisconnected:
            return Response(status_code=499)


def _invalid(exc: ValidationError) -> JSONResponse:
    problems, params = [], []
    for error in exc.errors():
        field = ".".join(str(part) for part in error["loc"]) or "body"
        if error["type"] == "json_invalid":
            field = "body"
        params.append(field)
        problems.append(f"{field}: {error['msg']}")
    return openai_error(400, "; ".join(problems), code="invalid_request", param=params[0])


def _finish_reason(tokens: int, max_tokens: int, fallback: bool) -> str:
    if fallback:
        return "content_filter"
    return "length" if tokens >= max_tokens else "stop"


async def _completion(
    service: GenerationEngine,
    served: ServedModel,
    story: GenerateRequest,
    answer: GenerateResponse,
    body: OpenAIRequest,
    *,
    chat: bool,
) -> dict:
    choices, completion_tokens = [], 0
    for index, candidate in enumerate(answer.candidates):
        text, stopped = stop_cut(candidate.text, body.stops)
        reason = (
            "stop"
            if stopped
            else _finish_reason(candidate.tokens, story.params.max_tokens, answer.fallback)
        )
        completion_tokens += candidate.tokens
        if chat:
            content = {"message": {"role": "assistant", "content": text}}
        else:
            content = {"text": text, "logprobs": None}
        choices.append({"index": index, **content, "finish_reason": reason})
    prompt_tokens = await asyncio.to_thread(_prompt_tokens, service, served, story)
    return {
        "id": _new_id(chat),
        "object": "chat.completion" if chat else "text_completion",
        "created": int(time.time()),
        "model": answer.model,
        "choices": choices,
        "usage": _usage(prompt_tokens, completion_tokens),
    }


def _prompt_tokens(service: GenerationEngine, served: ServedModel, story: GenerateRequest) -> int:
    budget = served.prompt_budget(service.prompt_budget, story.params.max_tokens)
    prompt = build_prompt(served.tokenizer, story.kind, story.context, budget)
    return len(prompt.ids)


def _usage(prompt_tokens: int, completion_tokens: int) -> dict:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }


def _new_id(chat: bool) -> str:
    return f"{'chatcmpl' if chat else 'cmpl'}-{uuid.uuid4().hex}"


async def _events(
    stream: StoryStream, body: OpenAIRequest, served: ServedModel, *, chat: bool, deadline_s: float
) -> AsyncIterator[str]:
    """Server-sent events: one chunk per piece of text, then the usage (when asked), then
    `[DONE]`. A failure after the answer started is sent as an error event."""
    ident, created = _new_id(chat), int(time.time())
    kind = "chat.completion.chunk" if chat else "text_completion"
    started: set[int] = set()

    def chunk(choices: list[dict], **extra) -> str:
        data = {"id": ident, "object": kind, "created": created, "model": served.id}
        return f"data: {json.dumps({**data, 'choices': choices, **extra})}\n\n"

    try:
        async for piece in stream.pieces(deadline_s):
            if chat:
                delta: dict = {"content": piece.text}
                if piece.index not in started:
                    delta = {"role": "assistant", **delta}
                    started.add(piece.index)
                choice = {"index": piece.index, "delta": delta}
            else:
                choice = {"index": piece.index, "text": piece.text}
            choice |= {"logprobs": None, "finish_reason": piece.finish_reason}
            yield chunk([choice])
        if body.include_usage:
            yield chunk([], usage=_usage(stream.prompt_tokens, stream.completion_tokens))
    except GeneratorError as exc:
        yield f"data: {json.dumps(json.loads(bytes(from_generator_error(exc).body)))}\n\n"
    yield "data: [DONE]\n\n"
