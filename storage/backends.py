"""Open the storage a URL names: `sqlite:///path` (the default, one process) or
`postgresql://user@host:port/db` (several bot processes on one database).

The bot, the terminal game and the CLI open storage only through `open_storage_url`, so a
setting change is all it takes to move between backends. SQLite URLs follow SQLAlchemy's form:
`sqlite:///talewright.db` is relative, `sqlite:////srv/talewright.db` absolute, and
`sqlite:///:memory:` a throwaway database.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from storage.errors import StorageError

if TYPE_CHECKING:
    from storage.repositories import Storage

SQLITE_PREFIX = "sqlite:///"
POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def sqlite_url(path: str | os.PathLike[str]) -> str:
    """The URL of the SQLite database file at `path`."""
    return SQLITE_PREFIX + os.fspath(path)


def sqlite_path(url: str) -> str | None:
    """The file a sqlite:/// URL names; None for any other URL."""
    return url[len(SQLITE_PREFIX) :] if url.startswith(SQLITE_PREFIX) else None


def shown_url(url: str) -> str:
    """How a person is told where the stories are: the file, or the URL without a password."""
    from storage.postgres.url import display_url

    return sqlite_path(url) or display_url(url)


def check_url(url: str) -> str:
    """`url`, when it names a backend Talewright has; ValueError saying which ones it has."""
    path = sqlite_path(url)
    if path == "":
        raise ValueError("a sqlite:/// URL needs a file path after the three slashes")
    if path is None and not url.startswith(POSTGRES_SCHEMES):
        raise ValueError(
            "the storage URL must start with sqlite:/// (a file) or postgresql:// (a server)"
        )
    return url


async def open_storage_url(
    url: str,
    *,
    busy_timeout_s: float = 5.0,
    password_file: str | os.PathLike[str] | None = None,
    pool_size: int = 10,
    sole_writer: bool = False,
    clock: Callable[[], float] = time.time,
) -> Storage:
    """Open the storage at `url` and bring its schema up to date.

    SQLite uses `busy_timeout_s` and `sole_writer` (claim the file for this process); the
    PostgreSQL pool holds up to `pool_size` connections and logs in with the password from
    `password_file`, else TALEWRIGHT_DB_PASSWORD, else PGPASSWORD. Raises StorageError (and
    its kinds, SchemaTooNew among them) when the database cannot be used.
    """
    try:
        check_url(url)
    except ValueError as exc:
        raise StorageError(f"The storage URL {shown_url(url)} cannot be used: {exc}.") from exc
    path = sqlite_path(url)
    if path is not None:
        from storage.sqlite import open_storage

        return await open_storage(
            path, busy_timeout_s=busy_timeout_s, clock=clock, sole_writer=sole_writer
        )
    from storage.postgres import open_postgres_storage

    return await open_postgres_storage(
        url,
        password_file=None if password_file is None else os.fspath(password_file),
        pool_size=pool_size,
        clock=clock,
    )
