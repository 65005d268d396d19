"""A generator wrapper for the end-to-end tests: it records every request (and so the context
the model was given) and passes it on to the real generator."""

from __future__ import annotations

from typing import Any

from generators.schemas import GenerateRequest, GenerateResponse


class RecordingGenerator:
    """Wraps a Generator; `requests` holds what it was asked, oldest first."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.requests: list[GenerateRequest] = []

    async def generate(self, request: GenerateRequest) -> GenerateResponse:
        self.requests.append(request)
        return await self.inner.generate(request)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)
