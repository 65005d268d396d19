"""The in-process model over one checkpoint, loaded on first use: the terminal's generator, and
the Discord bot's when its checkpoint is missing at start (so both front ends import it here).

Loading waits for the first model turn, so writing by hand starts at once and works while the
default model is still being trained; a missing checkpoint is then reported as the model being
unavailable, with the command that makes one.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from generators.errors import CheckpointError, GeneratorUnavailable
from generators.schemas import (
    EmbedRequest,
    EmbedResponse,
    GenerateRequest,
    GenerateResponse,
    ModelInfo,
)

if TYPE_CHECKING:
    from generators.client import InProcessGenerator
    from generators.moderation import Moderator

TRAIN_HINT = "train one with `talewright train lstm --config configs/lstm_default.toml`"


def missing_model_message(path: Path) -> str | None:
    """Why there is no usable model at `path`, or None when there is one."""
    if (path / "config.json").is_file():
        return None
    return f"no model at {path}; {TRAIN_HINT} or pass --checkpoint"


class LazyGenerator:
    """A Generator that loads `InProcessGenerator.from_checkpoints([path])` when first asked."""

    def __init__(
        self,
        path: Path,
        *,
        moderator: Moderator,
        threads: int | None = None,
        timeout_s: float = 60.0,
        prompt_budget: int = 384,
        max_regenerations: int = 2,
        vae: Path | None = None,
        retrieval_index: Path | None = None,
    ) -> None:
        self.path = path
        self.vae = vae
        self.retrieval_index = retrieval_index
        self._moderator = moderator
        self._threads = threads
        self._timeout_s = timeout_s
        self._prompt_budget = prompt_budget
        self._max_regenerations = max_regenerations
        self._loaded: InProcessGenerator | None = None
        self._loading = asyncio.Lock()

    async def _generator(self) -> InProcessGenerator:
        async with self._loading:
            if self._loaded is None:
                self._loaded = await asyncio.to_thread(self._load)
        return self._loaded

    def _load(self) -> InProcessGenerator:
        problem = missing_model_message(self.path)
        if problem is not None:
            raise GeneratorUnavailable(problem)
        from generators.client import InProcessGenerator
        from generators.inference.cpu_threads import SERVING_THREADS

        try:
            return InProcessGenerator.from_checkpoints(
                [self.path],
                threads=self._threads or SERVING_THREADS,
                moderator=self._moderator,
                timeout_s=self._timeout_s,
                prompt_budget=self._prompt_budget,
                max_regenerations=self._max_regenerations,
                vae=self.vae,
                retrieval_index=self.retrieval_index,
            )
        except (CheckpointError, OSError, ValueError) as exc:
            raise GeneratorUnavailable(f"cannot load the model at {self.path}: {exc}") from exc

    async def generate(self, request: GenerateRequest) -> GenerateResponse:
        return await (await self._generator()).generate(request)

    async def embed(self, request: EmbedRequest) -> EmbedResponse:
        """Sentence vectors once the models are loaded; before the first model turn they are
        not loaded for this (the turn keeps its statistics and goes without a vector)."""
        if self._loaded is None:
            raise GeneratorUnavailable("the models load with the first model turn")
        return await self._loaded.embed(request)

    async def list_models(self) -> list[ModelInfo]:
        return await (await self._generator()).list_models()

    async def aclose(self) -> None:
        if self._loaded is not None:
            await self._loaded.aclose()
