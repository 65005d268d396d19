"""The generation service's HTTP API (FastAPI); models load in the lifespan, never at import.

POST /v1/generate  GenerateRequest -> GenerateResponse
POST /v1/moderate  ModerateRequest -> ModerationVerdict
POST /v1/embed     EmbedRequest -> EmbedResponse (sentence VAE vectors; 404 without a VAE)
GET  /v1/models    the loaded checkpoints, OpenAI's shape: each ModelInfo under `talewright`
POST /v1/completions, /v1/chat/completions  OpenAI-compatible (generators.service.openai_api)
GET  /healthz      the process answers
GET  /readyz       models loaded, worker running, queue not full (503 otherwise)
GET  /metrics      Prometheus text

With an API key set, every request needs `Authorization: Bearer <key>` (the last three too
with `protect_probes`); see generators.service.auth.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from generators.api_keys import read_api_key
from generators.errors import GeneratorError, GeneratorUnavailable
from generators.inference.cpu_threads import set_serving_threads
from generators.inference.latent import LatentTools, load_latent
from generators.inference.orchestration import GenerationEngine
from generators.inference.registry import ModelRegistry
from generators.moderation import Moderator
from generators.retrieval.source import load_retrieval
from generators.schemas import (
    EmbedRequest,
    EmbedResponse,
    GenerateRequest,
    GenerateResponse,
    ModelInfo,
    ModerateRequest,
    ModerationVerdict,
)
from generators.service.auth import PROBES, ApiKeyMiddleware, check_exposure
from generators.service.body_limit import BodyLimitMiddleware, BodyTooLarge, body_too_large
from generators.service.loading import load_registry, resolve_device, serving_autocast
from generators.service.metrics import CONTENT_TYPE, ServiceMetrics
from generators.service.openai_api import mount_openai
from generators.service.responses import (
    ClientDisconnected,
    client_disconnected,
    error_body,
    generator_error,
    validation_error,
)
from generators.service.scheduler import Scheduler
from generators.service.settings import ServiceSection
from generators.service.sidework import SideWork
from generators.service.waiting import until_disconnect

ENDPOINTS = frozenset(
    {
        "/v1/generate",
        "/v1/moderate",
        "/v1/embed",
        "/v1/models",
        "/v1/completions",
        "/v1/chat/completions",
        "/healthz",
        "/readyz",
        "/metrics",
    }
)


def create_app(
    settings: ServiceSection,
    *,
    registry: ModelRegistry | None = None,
    moderator: Moderator | None = None,
    latent: LatentTools | None = None,
) -> FastAPI:
    """The service app. `registry`, `moderator` and `latent` default to the settings'
    checkpoints, a `Moderator()` and the settings' sentence VAE; passing them lets a caller
    share or prepare them (the tests do).

    Raises ServiceSecurityError when the key settings cannot work, or when `settings.host` is
    beyond loopback with no key and no `allow_unauthenticated_remote`."""
    api_key = read_api_key(settings.api_key, settings.api_key_file)
    check_exposure(settings.host, api_key, settings.allow_unauthenticated_remote)
    metrics = ServiceMetrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        set_serving_threads(settings.threads)
        device = registry.device if registry else resolve_device(settings.device)
        autocast = serving_autocast(settings.precision, device)  # refuse before loading models
        models = registry or await asyncio.to_thread(
            load_registry, settings.checkpoints, device, settings.models
        )
        checker = moderator if moderator is not None else Moderator()
        await asyncio.to_thread(checker.check, "Once upon a time.", "teen")  # load lazy parts now
        tools = latent or await asyncio.to_thread(load_latent, settings.vae_checkpoint, checker)
        retrieval = await asyncio.to_thread(load_retrieval, settings.retrieval_index)
        scheduler = Scheduler(
            models.device,
            metrics,
            max_batch=settings.max_batch,
            max_queue=settings.max_queue,
            batching=settings.batching,
            autocast=autocast,
        )
        metrics.watch(lambda: scheduler.queue_depth, lambda: scheduler.live_rows)
        side = SideWork(metrics, workers=settings.side_workers, max_waiting=settings.side_queue)
        metrics.watch_side_work(lambda: side.running, lambda: side.waiting)
        scheduler.start()
        app.state.service = GenerationEngine(
            models,
            scheduler,
            metrics,
            checker,
            max_context_chars=settings.max_context_chars,
            prompt_budget=settings.prompt_budget,
            max_regenerations=settings.max_regenerations,
            latent=tools,
            side=side,
            retrieval=retrieval,
        )
        try:
            yield
        finally:
            side.shutdown()
            await asyncio.to_thread(app.state.service.scoring.stop)
            await asyncio.to_thread(scheduler.stop)

    app = FastAPI(title="Talewright generation service", version="1", lifespan=lifespan)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    if api_key is not None:  # before the body limit: an unauthenticated body is never read
        open_paths = frozenset() if settings.protect_probes else PROBES
        app.add_middleware(ApiKeyMiddleware, key=api_key, open_paths=open_paths)
    app.add_middleware(MetricsMiddleware, metrics=metrics)  # outermost: counts the 401s too
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(GeneratorError, generator_error)
    app.add_exception_handler(ClientDisconnected, client_disconnected)
    app.add_exception_handler(BodyTooLarge, body_too_large)

    @app.post("/v1/generate", response_model=GenerateResponse)
    async def generate(body: GenerateRequest, request: Request) -> GenerateResponse:
        return await until_disconnect(
            request, _service(request).generate(body), settings.request_deadline_s
        )

    @app.post("/v1/moderate", response_model=ModerationVerdict)
    async def moderate(body: ModerateRequest, request: Request) -> ModerationVerdict:
        work = _service(request).moderate(body.text, body.level)
        return await until_disconnect(request, work, settings.request_deadline_s)

    @app.post("/v1/embed", response_model=EmbedResponse)
    async def embed(body: EmbedRequest, request: Request) -> EmbedResponse:
        work = _service(request).embed(body)
        return await until_disconnect(request, work, settings.request_deadline_s)

    def loaded_models() -> list[ModelInfo]:
        service = getattr(app.state, "service", None)
        if service is None:
            raise GeneratorUnavailable("the service is starting")
        return service.models()

    mount_openai(
        app,
        level=settings.moderation_level,
        deadline_s=settings.request_deadline_s,
        models=loaded_models,
    )

    @app.get("/healthz")
    async def healthz() -> dict:
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz(request: Request) -> Response:
        service: GenerationEngine | None = getattr(request.app.state, "service", None)
        scheduler = service.scheduler if service else None
        if service is None or scheduler is None or not scheduler.running:
            return JSONResponse(error_body("unavailable", "models not loaded"), status_code=503)
        if scheduler.saturated:
            return JSONResponse(
                error_body("overloaded", f"queue full ({scheduler.queue_depth} waiting)"),
                status_code=503,
                headers={"Retry-After": "1"},
            )
        return JSONResponse(
            {
                "status": "ready",
                "models": sorted(service.registry.models),
                "queue_depth": scheduler.queue_depth,
                "active_sequences": scheduler.live_rows,
            }
        )

    @app.get("/metrics")
    async def metrics_text() -> Response:
        return Response(metrics.render(), media_type=CONTENT_TYPE)

    return app


def _service(request: Request) -> GenerationEngine:
    service = getattr(request.app.state, "service", None)
    if service is None:
        raise GeneratorUnavailable("the service is starting")
    return service


class MetricsMiddleware:
    """Counts every HTTP request by endpoint and status and times it (pure ASGI, so it leaves
    the disconnect signal alone)."""

    def __init__(self, app: ASGIApp, metrics: ServiceMetrics):
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        endpoint = scope["path"] if scope["path"] in ENDPOINTS else "other"
        status = 500

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        started = asyncio.get_running_loop().time()
        try:
            await self.app(scope, receive, record_status)
        finally:
            self.metrics.requests.labels(endpoint, str(status)).inc()
            self.metrics.latency.labels(endpoint).observe(
                asyncio.get_running_loop().time() - started
            )
