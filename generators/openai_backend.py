"""Any OpenAI-compatible server (vLLM, Text Generation Inference, llama.cpp, Ollama, KoboldCpp,
or `talewright serve` itself) behind the Generator protocol: the engine cannot tell it apart.

A request becomes chat messages (generators.openai_prompt); the server is asked for n choices,
and for the rest one request each when it answers fewer (some ignore `n`). Every choice passes
Talewright's moderation at the request's level; when moderation blocks them all the request is
asked again, up to `max_regenerations` times, then answered with the safe fallback line, as the
other generators do. Failures map onto generators.errors: 429 and 503 (with Retry-After) are
overloaded, timeouts and a dropped stream time out or are unavailable, a malformed answer is
unavailable, a refused key or an unknown model say so.

`stream` writes the first choice as it arrives, calling `on_text` with the text so far.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx

from generators.errors import (
    GeneratorOverloaded,
    GeneratorTimeout,
    GeneratorUnavailable,
    InvalidGenerationRequest,
    UnknownModel,
)
from generators.inference import pipeline
from generators.openai_prompt import story_messages
from generators.schemas import Candidate, GenerateRequest, GenerateResponse, ModelInfo, Timings

OnText = Callable[[str], Awaitable[None]]


class OpenAIGenerator:
    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str | None = None,
        moderator=None,
        timeout_s: float = 60.0,
        connect_timeout_s: float = 5.0,
        extra_body: dict[str, Any] | None = None,
        max_regenerations: int = 2,
        transport: httpx.AsyncBaseTransport | None = None,
    ):
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.model = model
        self.moderator = moderator
        self.extra_body = dict(extra_body or {})
        self.max_regenerations = max_regenerations
        self.timeout_s = timeout_s
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/") + "/",
            headers=headers,
            timeout=httpx.Timeout(timeout_s, connect=connect_timeout_s),
            transport=transport,
        )

    async def generate(self, request: GenerateRequest) -> GenerateResponse:
        return await self._generate(request, None)

    async def stream(self, request: GenerateRequest, on_text: OnText) -> GenerateResponse:
        """Like `generate`, with the first choice streamed: `on_text(text so far)` as it
        grows. The answer's text is what the last call showed, moderated (a blocked stream is
        answered like any blocked candidate)."""
        return await self._generate(request, on_text)

    async def _generate(self, request: GenerateRequest, on_text: OnText | None) -> GenerateResponse:
        started = time.perf_counter()
        ranked: list[Candidate] = []
        for attempt in range(self.max_regenerations + 1):
            texts = await self._texts(request, attempt, on_text)
            ranked = await asyncio.to_thread(self._moderate, request, texts)
            if ranked:
                break
        total = (time.perf_counter() - started) * 1000
        timings = Timings(generate_ms=total, total_ms=total)
        return pipeline.respond(request, self.model, ranked[: request.params.n], timings)

    def _moderate(self, request: GenerateRequest, texts: list[tuple[str, int]]) -> list[Candidate]:
        candidates = [Candidate(text=t.strip(), score=0.0, tokens=n) for t, n in texts]
        return pipeline.moderate_candidates(candidates, self.moderator, request.moderation_level)

    async def _texts(
        self, request: GenerateRequest, attempt: int, on_text: OnText | None
    ) -> list[tuple[str, int]]:
        """The choices' texts and token counts: n asked at once, the missing ones one by one."""
        n = request.params.n
        body = self._body(request, attempt)
        if on_text is not None:
            first = [await self._streamed(body | {"n": 1}, on_text)]
            rest = [self._ask(body | {"n": 1, "seed": _seed(body, i)}) for i in range(1, n)]
            return first + [t for got in await asyncio.gather(*rest) for t in got]
        texts = await self._ask(body | {"n": n})
        missing = n - len(texts)
        if missing > 0:
            more = [self._ask(body | {"n": 1, "seed": _seed(body, i)}) for i in range(missing)]
            texts += [t for got in await asyncio.gather(*more) for t in got]
        return texts[:n]

    def _body(self, request: GenerateRequest, attempt: int) -> dict[str, Any]:
        params = request.params
        body: dict[str, Any] = {
            **self.extra_body,
            "model": self.model,
            "messages": story_messages(request),
            "max_tokens": params.max_tokens,
            "temperature": params.temperature,
            "top_p": params.top_p,
        }
        if params.seed is not None:
            body["seed"] = params.seed + attempt * 7919
        return body

    async def _ask(self, body: dict[str, Any]) -> list[tuple[str, int]]:
        data = _json(await self._post(body))
        try:
            choices = data["choices"]
            usage = data.get("usage") or {}
            each = int(usage.get("completion_tokens", 0)) // max(len(choices), 1)
            return [(str(c["message"]["content"] or ""), each) for c in choices]
        except (KeyError, TypeError, ValueError) as exc:
            raise GeneratorUnavailable(f"the model server sent a malformed answer: {exc}") from exc

    async def _post(self, body: dict[str, Any]) -> httpx.Response:
        try:
            response = await self._client.post("chat/completions", json=body)
        except httpx.TimeoutException as exc:
            waited = f"{self.timeout_s:g} s"
            raise GeneratorTimeout(f"the model server did not answer in {waited}") from exc
        except httpx.HTTPError as exc:
            raise GeneratorUnavailable(f"the model server cannot be reached: {exc}") from exc
        _raise_for_status(response)
        return response

    async def _streamed(self, body: dict[str, Any], on_text: OnText) -> tuple[str, int]:
        """One choice, streamed; (its text, chunks received)."""
        text, chunks, finished = "", 0, False
        try:
            async with self._client.stream(
                "POST", "chat/completions", json=body | {"stream": True}
            ) as response:
                if response.status_code >= 400:
                    await response.aread()
                    _raise_for_status(response)
                async for data in _events(response):
                    if data == "[DONE]":
                        finished = True
                        break
                    piece, ended = _delta(json.loads(data) if data else None)
                    chunks += 1
                    finished = finished or ended
                    if piece:
                        text += piece
                        await on_text(text)
        except httpx.TimeoutException as exc:
            raise GeneratorTimeout(f"the model server stalled for {self.timeout_s:g} s") from exc
        except httpx.HTTPError as exc:
            raise GeneratorUnavailable(f"the model server dropped the stream: {exc}") from exc
        except (json.JSONDecodeError, TypeError) as exc:
            raise GeneratorUnavailable(f"the model server sent a malformed chunk: {exc}") from exc
        if not finished:
            raise GeneratorUnavailable("the model server ended the stream before it finished")
        return text, chunks

    async def list_models(self) -> list[ModelInfo]:
        try:
            response = await self._client.get("models")
        except httpx.HTTPError as exc:
            raise GeneratorUnavailable(f"the model server cannot be reached: {exc}") from exc
        _raise_for_status(response)
        try:
            listed = _json(response)["data"]
            return [
                ModelInfo(**m["talewright"])
                if isinstance(m.get("talewright"), dict)
                else ModelInfo(id=str(m["id"]), family="openai", parameters=0, vocab_size=0)
                for m in listed
            ]
        except (KeyError, TypeError, ValueError) as exc:
            raise GeneratorUnavailable(f"the model server sent a malformed answer: {exc}") from exc

    async def aclose(self) -> None:
        await self._client.aclose()


def _seed(body: dict[str, Any], index: int) -> int | None:
    seed = body.get("seed")
    return None if seed is None else seed + index


def _json(response: httpx.Response) -> dict:
    try:
        data = response.json()
    except ValueError as exc:
        raise GeneratorUnavailable(f"the model server sent malformed JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise GeneratorUnavailable("the model server sent malformed JSON: not an object")
    return data


def _message(response: httpx.Response) -> str:
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError):
        return response.text[:200]
    if isinstance(error, dict):
        return str(error.get("message", ""))[:200]
    return str(error or response.text)[:200]


def _raise_for_status(response: httpx.Response) -> None:
    status = response.status_code
    if status < 400:
        return
    message = _message(response)
    if status in (429, 503):
        raise GeneratorOverloaded(
            f"the model server is busy ({status}): {message}", _retry_after(response)
        )
    if status == 404:
        raise UnknownModel(f"the model server does not know this model: {message}")
    if status in (401, 403):
        raise GeneratorUnavailable(f"the model server refused the API key ({status})")
    if status == 504:
        raise GeneratorTimeout(f"the model server timed out: {message}")
    if status in (400, 413, 422):
        raise InvalidGenerationRequest(f"the model server refused the request: {message}")
    raise GeneratorUnavailable(f"the model server failed ({status}): {message}")


def _retry_after(response: httpx.Response) -> float:
    try:
        return max(1.0, math.ceil(float(response.headers.get("Retry-After", "1"))))
    except ValueError:
        return 1.0


async def _events(response: httpx.Response) -> AsyncIterator[str]:
    """The `data:` payloads of a server-sent event stream."""
    async for line in response.aiter_lines():
        if line.startswith("data:"):
            yield line[5:].strip()


def _delta(chunk: Any) -> tuple[str, bool]:
    """A chat chunk's new text and whether its choice ended; an error event raises."""
    if not isinstance(chunk, dict):
        raise TypeError("a chunk is not an object")
    if "error" in chunk:
        raise GeneratorUnavailable(f"the model server failed mid-stream: {chunk['error']}")
    choices = chunk.get("choices") or []
    if not choices:
        return "", False
    choice = choices[0]
    piece = (choice.get("delta") or {}).get("content") or ""
    return str(piece), bool(choice.get("finish_reason"))
