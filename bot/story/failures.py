"""Storage and generator failures -> the user-facing errors front ends show as they are.

Every public engine operation is wrapped, so a front end catches `UserFacingError` alone: a
locked or read-only database, a model that is down or slow, a record that vanished meanwhile.
What a person reads is plain text chosen by the kind of failure; the failure's own text (a
service address, a database path, a driver's error) is logged here and never shown.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

from bot.errors import (
    DatabaseBusy,
    DatabaseError,
    GenerationFailed,
    GeneratorBusy,
    GeneratorDown,
    GeneratorTooSlow,
    UnknownId,
    UserFacingError,
)
from generators.errors import (
    GeneratorError,
    GeneratorOverloaded,
    GeneratorTimeout,
    GeneratorUnavailable,
)
from storage.errors import Conflict, DatabaseLocked, NotFound, StorageError

P = ParamSpec("P")
R = TypeVar("R")

log = logging.getLogger("talewright.engine")


def log_failure(doing: str, exc: BaseException) -> None:
    """The details a person is not shown, for the operator."""
    log.warning("%s failed: %s: %s", doing, type(exc).__name__, exc)


def generator_error(exc: GeneratorError) -> GenerationFailed:
    """What a person reads when the generator failed; the failure itself goes to the log."""
    log_failure("generation", exc)
    if isinstance(exc, GeneratorOverloaded):
        return GeneratorBusy()
    if isinstance(exc, GeneratorTimeout):
        return GeneratorTooSlow()
    if isinstance(exc, GeneratorUnavailable):
        return GeneratorDown()
    return GenerationFailed()


def storage_error(exc: StorageError) -> UserFacingError:
    """What a person reads when storage failed. A missing record or a broken uniqueness rule
    is their doing and says so in the repository's words (ids and names only); anything else
    is the operator's to fix and is logged with its cause."""
    if isinstance(exc, NotFound):
        return UnknownId(str(exc))
    if isinstance(exc, Conflict):
        return UserFacingError(str(exc))
    log.error("storage failed: %s: %s", type(exc).__name__, exc, exc_info=exc)
    if isinstance(exc, DatabaseLocked):
        return DatabaseBusy()
    return DatabaseError()


def user_errors(method: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Re-raise storage and generator failures of `method` as UserFacingErrors."""

    @functools.wraps(method)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await method(*args, **kwargs)
        except UserFacingError:
            raise
        except StorageError as exc:
            raise storage_error(exc) from exc
        except GeneratorError as exc:
            raise generator_error(exc) from exc

    return wrapper
