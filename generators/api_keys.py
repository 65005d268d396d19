"""Reading an API key setting (a secret value or a file), shared by the service and its clients.

Kept apart from `generators.service` so that a bot process reading its `[generator]` key does
not import the service's web framework and torch.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr


class ServiceSecurityError(ValueError):
    """A key setting that cannot work, or an open service beyond loopback; refused at start."""


def read_api_key(
    key: SecretStr | str | None, key_file: Path | None, section: str = "service"
) -> str | None:
    """The configured key (surrounding whitespace removed), or None when there is none;
    `section` names the settings table in error messages."""
    if key is not None and key_file is not None:
        raise ServiceSecurityError(f"[{section}] set api_key or api_key_file, not both")
    if key_file is not None:
        try:
            value = Path(key_file).read_text(encoding="utf-8")
        except OSError as exc:
            raise ServiceSecurityError(
                f"[{section}] api_key_file {key_file} cannot be read: {exc.strerror or exc}"
            ) from None
        where = f"api_key_file {key_file}"
    elif key is not None:
        value = key.get_secret_value() if isinstance(key, SecretStr) else key
        where = "api_key"
    else:
        return None
    if not value.strip():
        raise ServiceSecurityError(f"[{section}] {where} is empty")
    return value.strip()
