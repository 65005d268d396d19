"""Settings from `config.toml` tables overridden by `TALEWRIGHT_*` environment variables.

The bot's settings (bot/settings.py) and the generation service's (generators/service/settings.py)
read the same file the same way: the file in use is `--config`, else $TALEWRIGHT_CONFIG, else
./config.toml; keyword overrides beat the environment, which beats the file; nested keys use a
double underscore (`TALEWRIGHT_SERVICE__PORT`). A bad value fails at start with the key, the
value and what was expected (`SettingsError`), secrets shown as `**********`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, TypeVar, cast

from pydantic import ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

CONFIG_ENV = "TALEWRIGHT_CONFIG"


class SettingsError(Exception):
    """Configuration that cannot work; the message names every bad key."""


class FileSettings(BaseSettings):
    """Settings read from keyword overrides, then `TALEWRIGHT_*` variables, then the TOML file
    named by `model_config["toml_file"]` (set by `load_from`)."""

    model_config = SettingsConfigDict(env_prefix="TALEWRIGHT_", env_nested_delimiter="__")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_file = settings_cls.model_config.get("toml_file")
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if toml_file:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_file))
        return (*sources, file_secret_settings)


S = TypeVar("S", bound=FileSettings)


def config_path(explicit: Path | str | None = None) -> Path | None:
    """The config file in use: --config, else $TALEWRIGHT_CONFIG, else ./config.toml if any."""
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise SettingsError(f"config file not found: {path}")
        return path
    from_env = os.environ.get(CONFIG_ENV)
    if from_env:
        path = Path(from_env)
        if not path.is_file():
            raise SettingsError(f"{CONFIG_ENV} names a missing file: {path}")
        return path
    local = Path("config.toml")
    return local if local.is_file() else None


def load_from(settings_cls: type[S], path: Path | str | None = None, **overrides: Any) -> S:
    """`settings_cls` from file, environment and `overrides` (highest first: overrides, env,
    file). Raises SettingsError naming every bad key."""
    toml_file = config_path(path)

    class FromFile(settings_cls):
        model_config = SettingsConfigDict(**{**settings_cls.model_config, "toml_file": toml_file})

    try:
        return cast(S, FromFile(**overrides))  # a subclass of settings_cls
    except ValidationError as exc:
        raise SettingsError(describe_errors(exc, toml_file)) from None
    except ValueError as exc:  # a TOML syntax error surfaces as a ValueError subclass
        raise SettingsError(f"cannot read {toml_file}: {exc}") from None


def describe_errors(exc: ValidationError, toml_file: Path | None) -> str:
    where = f" (from {toml_file} or TALEWRIGHT_* variables)" if toml_file else ""
    lines = [f"invalid configuration{where}:"]
    for error in exc.errors():
        key = ".".join(str(p) for p in error["loc"])
        value = error.get("input")
        shown = "**********" if "token" in key or "api_key" in key else repr(value)
        if error["type"] == "extra_forbidden":
            lines.append(f"  {key}: unknown setting")
        else:
            lines.append(f"  {key} = {shown}: {error['msg']}")
    return "\n".join(lines)
