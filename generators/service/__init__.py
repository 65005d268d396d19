"""The generation service: an HTTP API over the continuous-batching generation engine.

`create_app` is imported on first use, so the in-process generator can use the scheduler and
its neighbours here without loading the web framework."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from generators.service.app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from generators.service.app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
