"""Storage and generator failures -> the user-facing errors front ends show as they are.

Every public engine operation is wrapped, so a front end catches `UserFacingError` alone: a
locked or read-only database, a model that is down or slow, a record that vanished meanwhile.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

from bot.errors import (
    DatabaseError,
    GenerationFailed,
    GeneratorDown,
    GeneratorTooSlow,
    UnknownId,
    UserFacingError,
)
from generators.errors import GeneratorError, GeneratorTimeout, GeneratorUnavailable
from storage.errors import Conflict, NotFound, StorageError

P = ParamSpec("P")
R = TypeVar("R")

SAVED = "Everything already written is saved."


def generator_error(exc: GeneratorError) -> GenerationFailed:
    if isinstance(exc, GeneratorTimeout):
        return GeneratorTooSlow(
            f"The storyteller model took too long ({exc}), so no turn was generated. {SAVED} "
            "Try again in a moment."
        )
    if isinstance(exc, GeneratorUnavailable):
        return GeneratorDown(
            f"The storyteller model is unavailable ({exc}), so no turn was generated. {SAVED}"
        )
    return GenerationFailed(f"The storyteller model refused the request ({exc}). {SAVED}")


def user_errors(method: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Re-raise storage and generator failures of `method` as UserFacingErrors."""

    @functools.wraps(method)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await method(*args, **kwargs)
        except UserFacingError:
            raise
        except NotFound as exc:
            raise UnknownId(str(exc)) from exc
        except Conflict as exc:
            raise UserFacingError(str(exc)) from exc
        except StorageError as exc:
            raise DatabaseError(str(exc)) from exc
        except GeneratorError as exc:
            raise generator_error(exc) from exc

    return wrapper
