"""`HttpGenerator`: the Generator protocol over the generation service's HTTP API.

It raises what the in-process generator raises, so the engine cannot tell them apart:
GeneratorUnavailable when no replica can serve, GeneratorOverloaded when they are all busy,
GeneratorTimeout past the deadline, UnknownModel / InvalidGenerationRequest for 4xx answers.
"""

from __future__ import annotations

import asyncio
import email.utils
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

import httpx
from pydantic import TypeAdapter, ValidationError

from generators.errors import (
    ContextTooLarge,
    GeneratorOverloaded,
    GeneratorTimeout,
    GeneratorUnavailable,
    InvalidGenerationRequest,
    NoDiscriminator,
    NoSentenceModel,
    UnknownModel,
)
from generators.schemas import (
    EmbedRequest,
    EmbedResponse,
    GenerateRequest,
    GenerateResponse,
    ModelInfo,
)

T = TypeVar("T")
_RESPONSE = TypeAdapter(GenerateResponse)
_MODELS = TypeAdapter(list[ModelInfo])
_EMBEDDED = TypeAdapter(EmbedResponse)
BreakerState = Literal["closed", "open", "half_open"]


class CircuitBreaker:
    """One replica's health as seen by this client.

    Opens after `threshold` consecutive failures (connection errors, timeouts, 500/502), so a
    dead replica stops costing every request a connection attempt. After `cooldown_s` it is
    half-open: one trial request goes through (after a `/readyz` check), and its outcome
    closes the breaker or opens it for another cooldown.
    """

    def __init__(self, threshold: int = 3, cooldown_s: float = 10.0):
        self.threshold = threshold
        self.cooldown_s = cooldown_s
        self.failures = 0
        self._opened_at: float | None = None
        self._trial = False

    @property
    def state(self) -> BreakerState:
        if self._opened_at is None:
            return "closed"
        if self._trial or time.monotonic() - self._opened_at >= self.cooldown_s:
            return "half_open"
        return "open"

    def available(self) -> bool:
        """Whether a request may go to this replica now (a half-open one takes one trial)."""
        state = self.state
        return state == "closed" or (state == "half_open" and not self._trial)

    def begin(self) -> bool:
        """Claim the replica for a request; True when this request is the half-open trial."""
        if self.state == "half_open":
            self._trial = True
            return True
        return False

    def success(self) -> None:
        self.failures = 0
        self._opened_at = None
        self._trial = False

    def abandon(self) -> None:
        """The trial ended with no verdict (the caller gave up): let another request try."""
        self._trial = False

    def failure(self) -> None:
        self.failures += 1
        if self._trial or self.failures >= self.threshold:
            self._opened_at = time.monotonic()
        self._trial = False


@dataclass
class Replica:
    url: str
    breaker: CircuitBreaker
    not_before: float = field(default=0.0)
    """Monotonic time before which this replica asked not to be sent work (Retry-After)."""


class RoundRobin:
    """Each request starts at the replica after the last one used, skipping open breakers and
    preferring replicas that have not asked to be left alone for a while."""

    def __init__(self, replicas: list[Replica]):
        if not replicas:
            raise ValueError("at least one generation service URL is needed")
        self.replicas = replicas
        self._cursor = 0

    def pick(self, now: float) -> Replica | None:
        count = len(self.replicas)
        order = [self.replicas[(self._cursor + i) % count] for i in range(count)]
        usable = [r for r in order if r.breaker.available()]
        if not usable:
            return None
        ready = [r for r in usable if r.not_before <= now]
        chosen = ready[0] if ready else min(usable, key=lambda r: r.not_before)
        self._cursor = (self.replicas.index(chosen) + 1) % count
        return chosen


class _Retry(Exception):
    """An attempt failed in a way another attempt (on the next replica) may not."""

    def __init__(self, error: GeneratorUnavailable):
        super().__init__(str(error))
        self.error = error


class HttpGenerator:
    """Sends each request to the next healthy replica (round-robin).

    `timeout_s` bounds the whole call, retries and waits included. Connection errors and
    502/503 answers are retried, up to `retries` more attempts on the next replica, after an
    exponential backoff with jitter (`backoff_s` doubling up to `max_backoff_s`) and never
    before the replica's Retry-After; a Retry-After longer than `max_retry_after_s` is passed to
    the caller at once as GeneratorOverloaded. A read timeout is not retried: the work may still
    be running and the caller's wait is spent. Each replica has a circuit breaker
    (`failure_threshold` consecutive failures open it for `cooldown_s`, then one trial request
    goes through after a `/readyz` check). `api_key`, when given, goes with every request as
    `Authorization: Bearer <key>` (the service's `[service] api_key`).
    """

    def __init__(
        self,
        urls: Sequence[str],
        *,
        timeout_s: float = 60.0,
        retries: int = 2,
        connect_timeout_s: float = 3.0,
        failure_threshold: int = 3,
        cooldown_s: float = 10.0,
        backoff_s: float = 0.1,
        max_backoff_s: float = 2.0,
        max_retry_after_s: float = 10.0,
        api_key: str | None = None,
    ):
        self.pool = RoundRobin(
            [Replica(u.rstrip("/"), CircuitBreaker(failure_threshold, cooldown_s)) for u in urls]
        )
        self.timeout_s = timeout_s
        self.retries = retries
        self.connect_timeout_s = connect_timeout_s
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.max_retry_after_s = max_retry_after_s
        headers = {"user-agent": "talewright-generator"}
        if api_key:
            headers["authorization"] = f"Bearer {api_key}"
        self._client = httpx.AsyncClient(headers=headers)

    @property
    def replicas(self) -> list[Replica]:
        return self.pool.replicas

    async def generate(self, request: GenerateRequest) -> GenerateResponse:
        response = await self._call("POST", "/v1/generate", request.model_dump(mode="json"))
        return _parse(_RESPONSE, response)

    async def embed(self, request: EmbedRequest) -> EmbedResponse:
        response = await self._call("POST", "/v1/embed", request.model_dump(mode="json"))
        return _parse(_EMBEDDED, response)

    async def list_models(self) -> list[ModelInfo]:
        return _parse(_MODELS, await self._call("GET", "/v1/models"), unwrap=_talewright_models)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _call(self, method: str, path: str, payload: Any = None) -> httpx.Response:
        if self._client.is_closed:
            raise GeneratorUnavailable("the generator is closed")
        deadline = time.monotonic() + self.timeout_s
        failures = 0
        last: GeneratorUnavailable | None = None
        while True:
            now = time.monotonic()
            replica = self.pool.pick(now)
            if replica is None:
                urls = ", ".join(r.url for r in self.replicas)
                raise last or GeneratorUnavailable(f"no generation service is reachable ({urls})")
            wait = max(self._backoff(failures), replica.not_before - now)
            if now + wait >= deadline:
                raise last or GeneratorTimeout(f"no answer within {self.timeout_s:g} s")
            if wait > 0:
                await asyncio.sleep(wait)
            if replica.breaker.begin() and not await self._ready(replica, deadline):
                last = GeneratorUnavailable(f"{replica.url} is not ready")
                continue
            try:
                return await self._attempt(replica, method, path, payload, deadline)
            except _Retry as retry:
                failures += 1
                last = retry.error
                if failures > self.retries:
                    raise retry.error from None

    async def _ready(self, replica: Replica, deadline: float) -> bool:
        """The half-open trial's health check; a failed check re-opens the breaker."""
        timeout = max(0.01, min(self.connect_timeout_s, deadline - time.monotonic()))
        try:
            response = await self._client.get(f"{replica.url}/readyz", timeout=timeout)
        except httpx.HTTPError:
            response = None
        except BaseException:
            replica.breaker.abandon()
            raise
        if response is not None and response.status_code == 200:
            return True
        replica.breaker.failure()
        return False

    async def _attempt(
        self, replica: Replica, method: str, path: str, payload: Any, deadline: float
    ) -> httpx.Response:
        """One request to one replica, its outcome recorded on the replica's breaker."""
        remaining = max(0.01, deadline - time.monotonic())
        timeout = httpx.Timeout(remaining, connect=min(self.connect_timeout_s, remaining))
        breaker = replica.breaker
        try:
            response = await self._client.request(
                method, f"{replica.url}{path}", json=payload, timeout=timeout
            )
        except httpx.ConnectTimeout as exc:
            breaker.failure()
            raise _Retry(GeneratorUnavailable(f"cannot reach {replica.url}: {exc!r}")) from exc
        except httpx.TimeoutException as exc:
            breaker.failure()
            raise GeneratorTimeout(f"{replica.url} did not answer in {remaining:.1f} s") from exc
        except httpx.TransportError as exc:
            breaker.failure()
            raise _Retry(GeneratorUnavailable(f"cannot reach {replica.url}: {exc!r}")) from exc
        except BaseException:
            breaker.abandon()
            raise
        status = response.status_code
        if status in (500, 502):
            breaker.failure()
        else:
            breaker.success()
        if status < 300:
            return response
        code, detail = _error(response)
        if status in (502, 503):
            retry_after = _retry_after(response)
            replica.not_before = time.monotonic() + retry_after
            message = f"{replica.url}: {detail}"
            error = (
                GeneratorOverloaded(message, retry_after or 1.0)
                if code == "overloaded"
                else GeneratorUnavailable(message)
            )
            if retry_after > self.max_retry_after_s:
                raise error
            raise _Retry(error)
        if status == 504:
            raise GeneratorTimeout(detail)
        if status == 404 and code == "no_sentence_model":
            raise NoSentenceModel(detail)
        if status == 404 and code == "unknown_model":
            raise UnknownModel(detail)
        if status == 422 and code == "no_discriminator":
            raise NoDiscriminator(detail)
        if status == 413 and code == "context_too_large":
            raise ContextTooLarge(detail)
        if 400 <= status < 500:
            raise InvalidGenerationRequest(detail)
        raise GeneratorUnavailable(f"{replica.url} failed ({status}): {detail}")

    def _backoff(self, failures: int) -> float:
        """Exponential backoff with jitter: a random wait in [ceiling/2, ceiling]."""
        if not failures:
            return 0.0
        ceiling = min(self.max_backoff_s, self.backoff_s * 2 ** (failures - 1))
        return random.uniform(ceiling / 2, ceiling)


def _talewright_models(data: Any) -> Any:
    """/v1/models in OpenAI's shape carries each model's ModelInfo under `talewright`; older
    services answer the bare list."""
    if isinstance(data, dict) and isinstance(data.get("data"), list):
        return [m.get("talewright", m) if isinstance(m, dict) else m for m in data["data"]]
    return data


def _parse(
    adapter: TypeAdapter[T], response: httpx.Response, unwrap: Callable[[Any], Any] = lambda d: d
) -> T:
    try:
        return adapter.validate_python(unwrap(response.json()))
    except (ValidationError, ValueError) as exc:
        raise GeneratorUnavailable(
            f"{response.request.url} sent a malformed answer: {exc}"
        ) from exc


def _error(response: httpx.Response) -> tuple[str, str]:
    """The service's error code and message; any other server's body as text."""
    try:
        body = response.json()
    except ValueError:
        return "", response.text[:500] or response.reason_phrase
    if isinstance(body, dict):
        return str(body.get("error", "")), str(body.get("detail", body))[:2000]
    return "", str(body)[:500]


def _retry_after(response: httpx.Response) -> float:
    """Seconds from a Retry-After header (delay or HTTP date); 0 when absent or unreadable."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return 0.0
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return 0.0
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
