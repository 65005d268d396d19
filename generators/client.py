"""The Generator protocol and its implementations.

The story engine only ever sees `Generator`: whether the model runs in this process or behind the
HTTP service is a deployment choice it cannot observe.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from generators.schemas import GenerateRequest, GenerateResponse, ModelInfo


@runtime_checkable
class Generator(Protocol):
    """Anything that turns a GenerateRequest into a GenerateResponse.

    Implementations raise the exceptions of `generators.errors`: GeneratorUnavailable (and its
    subclasses GeneratorTimeout, GeneratorOverloaded) when they cannot serve now, and
    InvalidGenerationRequest when the request itself is wrong.
    """

    async def generate(self, request: GenerateRequest) -> GenerateResponse: ...

    async def list_models(self) -> list[ModelInfo]: ...

    async def aclose(self) -> None: ...
