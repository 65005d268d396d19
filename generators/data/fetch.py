"""Downloading one file over HTTP with retries, and writing files so a crash leaves no partial one.

Network errors, 429 and 5xx answers are retried with exponential backoff; any other HTTP error is
final at once (a 404 will not turn into a 200 by waiting).
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable
from pathlib import Path

import httpx

RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


class FetchError(RuntimeError):
    """A file could not be downloaded; the message is one line for the user."""


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to a temporary name beside `path`, then rename: readers never see half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        partial.write_bytes(data)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


class Fetcher:
    """GETs URLs with `attempts` tries, sleeping backoff * 2**try between them."""

    def __init__(
        self,
        *,
        attempts: int = 4,
        backoff_s: float = 1.0,
        timeout_s: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.attempts = attempts
        self.backoff_s = backoff_s
        self.sleep = sleep
        self._client = httpx.Client(timeout=timeout_s, follow_redirects=True)

    def get(self, url: str, on_bytes: Callable[[int], None] | None = None) -> bytes:
        last = ""
        for attempt in range(self.attempts):
            if attempt:
                self.sleep(self.backoff_s * 2 ** (attempt - 1))
            try:
                with self._client.stream("GET", url) as response:
                    if response.status_code in RETRYABLE_STATUS:
                        last = f"HTTP {response.status_code}"
                        continue
                    if response.status_code != 200:
                        raise FetchError(f"HTTP {response.status_code} for {url}")
                    chunks = []
                    for chunk in response.iter_bytes():
                        chunks.append(chunk)
                        if on_bytes is not None:
                            on_bytes(len(chunk))
                    return b"".join(chunks)
            except httpx.HTTPError as exc:
                last = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        raise FetchError(f"{last} for {url} (gave up after {self.attempts} tries)")

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
