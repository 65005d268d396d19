"""postgresql:// URLs: where the password comes from, and how a URL is shown in messages.

A password does not belong in a settings file or a URL that ends up in logs: it comes from
an explicit argument, a file (Docker and Kubernetes secrets are files), or the environment
(`TALEWRIGHT_DB_PASSWORD`, else libpq's own `PGPASSWORD`, which asyncpg also reads).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from storage.errors import StorageError

PASSWORD_ENV = "TALEWRIGHT_DB_PASSWORD"
SCHEMES = ("postgresql", "postgres")


def read_password(password: str | None = None, password_file: str | None = None) -> str | None:
    """The password to log in with, or None to leave it to asyncpg (PGPASSWORD, .pgpass)."""
    if password is not None:
        return password
    if password_file:
        try:
            return Path(password_file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise StorageError(
                f"The database password file {password_file} cannot be read: {exc.strerror}."
            ) from exc
    return os.environ.get(PASSWORD_ENV) or None


def connect_options(
    url: str, *, password: str | None = None, password_file: str | None = None
) -> dict[str, Any]:
    """Keyword arguments for asyncpg.connect / create_pool that reach `url`."""
    if urlsplit(url).scheme not in SCHEMES:
        raise StorageError(f"{display_url(url)} is not a postgresql:// URL.")
    options: dict[str, Any] = {"dsn": url}
    chosen = read_password(password, password_file)
    if chosen is not None:
        options["password"] = chosen
    return options


def display_url(url: str) -> str:
    """The URL without any password in it, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[-1]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))
