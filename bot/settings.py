"""Settings: `config.toml` tables overridden by `TALEWRIGHT_*` environment variables.

Nested keys use a double underscore in the environment: `TALEWRIGHT_BOT__TOKEN`,
`TALEWRIGHT_GENERATOR__MODE=http`, `TALEWRIGHT_STORAGE__PATH=/data/talewright.db`. A bad value
fails at start with the key, the value and what was expected (`SettingsError`). The Discord
token is a SecretStr: printing or logging the settings shows `**********`. The `[service]` and
`[moderation]` tables are the generation service's own (generators.service.settings), read here
too so that one file configures both and `talewright serve` checks the whole of it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from platformdirs import user_data_dir
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from generators.config_file import FileSettings, load_from
from generators.config_file import SettingsError as SettingsError
from generators.service.settings import ModerationSection, Section, ServedFiles, ServiceSection
from storage.backends import check_url, sqlite_url


def default_db_path() -> Path:
    return Path(user_data_dir("talewright", appauthor=False)) / "talewright.db"


class BotSection(Section):
    token: SecretStr | None = None
    dev_guild_id: int | None = Field(default=None, description="sync commands to this guild only")
    api_base_url: str | None = Field(default=None, description="Discord REST base (tests only)")
    plain_message_mode: bool = Field(
        default=False, description="count plain messages in story threads (message content intent)"
    )
    shard_count: int | None = Field(default=None, ge=1)
    """Gateway shards of the whole bot, across all its processes (none: Discord's advice)."""
    shard_ids: Annotated[list[int] | None, NoDecode] = None
    """The shards this process runs (`0,1`, `2-3`, or a list; none: all of them). Each
    process of a bot runs its own shards over one PostgreSQL database (storage.url)."""
    max_turn_chars: int = Field(default=1800, ge=50, le=1900)
    generation_cooldown_s: float = Field(default=5.0, ge=0)
    channel_generation_cooldown_s: float = Field(default=1.0, ge=0)
    guild_generations_per_minute: int = Field(
        default=120, ge=0, description="cap on a guild's model requests a minute (0: none)"
    )
    start_cooldown_s: float = Field(default=30.0, ge=0, description="between a user's /story start")
    guild_starts_per_hour: int = Field(
        default=30, ge=0, description="cap on stories started in a guild an hour (0: none)"
    )
    reroll_vote_window_s: float = Field(default=60.0, gt=0)
    deadline_poll_s: float = Field(default=5.0, gt=0)
    recap_turns: int = Field(default=8, ge=1, le=50)
    max_characters_per_user: int = Field(default=50, ge=1, le=10_000)
    """Characters one member may keep in one guild."""
    card_imports_per_window: int = Field(default=10, ge=1)
    card_import_window_s: float = Field(default=600.0, gt=0)
    pending_turn_hold_s: float = Field(default=120.0, ge=0)
    """How long only its asker (and the story's owner) may write past a model turn."""

    @field_validator("shard_ids", mode="before")
    @classmethod
    def _shard_list(cls, value: Any) -> Any:
        return parse_shard_ids(value) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _shards_fit(self) -> BotSection:
        if self.shard_ids is None:
            return self
        if self.shard_count is None:
            raise ValueError("shard_ids needs shard_count: how many shards the whole bot runs")
        if not self.shard_ids:
            raise ValueError("shard_ids is empty: name at least one shard, or leave it unset")
        outside = sorted({i for i in self.shard_ids if not 0 <= i < self.shard_count})
        if outside:
            raise ValueError(
                f"shard_ids {outside} are outside 0..{self.shard_count - 1} "
                f"(shard_count = {self.shard_count})"
            )
        if len(set(self.shard_ids)) != len(self.shard_ids):
            raise ValueError("shard_ids names a shard twice")
        return self


def parse_shard_ids(text: str) -> list[int]:
    """`"0,1"`, `"4-7"` or `"0,2-3"` as shard numbers in the order given."""
    text = text.strip()
    if text.startswith("["):
        text = text.strip("[]")
    ids: list[int] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        first, dash, last = part.partition("-")
        try:
            low = int(first)
            high = int(last) if dash else low
        except ValueError:
            raise ValueError(f"{part!r} is not a shard number or a range such as 0-3") from None
        if high < low:
            raise ValueError(f"the range {part!r} runs backwards")
        ids.extend(range(low, high + 1))
    return ids


class StorageSection(Section):
    path: Path = Field(default_factory=default_db_path)
    busy_timeout_s: float = Field(default=5.0, ge=0)
    url: str | None = None
    """`sqlite:///path` or `postgresql://user@host:port/db` (several bot processes on one
    database); unset: the SQLite file at `path`. The password is never in the URL: it comes
    from `password_file`, else TALEWRIGHT_DB_PASSWORD, else PGPASSWORD."""
    password_file: Path | None = None
    pool_size: int = Field(default=10, ge=1, le=1000)
    """PostgreSQL connections a process may hold."""

    @field_validator("url")
    @classmethod
    def _known_backend(cls, value: str | None) -> str | None:
        return None if value is None else check_url(value)

    def storage_url(self) -> str:
        """Where the stories are: `url`, else the SQLite file at `path`."""
        return self.url or sqlite_url(self.path)


class GeneratorSection(ServedFiles):
    mode: Literal["in_process", "http", "openai"] = "in_process"
    """`openai`: any OpenAI-compatible server at `base_url`, asked for `model`."""
    urls: list[str] = Field(default_factory=lambda: ["http://127.0.0.1:8765"])
    model: str | None = None
    device: str = "cpu"
    threads: int | None = Field(default=None, ge=1)
    """Torch threads per operation; unset: one (`generators.inference.cpu_threads`, which says
    why and when more pays)."""
    timeout_s: float = Field(default=60.0, gt=0)
    retries: int = Field(default=2, ge=0, le=10)
    max_tokens: int = Field(default=70, ge=8, le=512)
    candidates: int = Field(default=3, ge=1, le=16)
    temperature: float = Field(default=0.8, ge=0.05, le=2.0)
    top_p: float = Field(default=0.95, gt=0, le=1.0)
    repetition_penalty: float = Field(default=1.1, ge=1.0, le=2.0)
    prompt_budget: int = Field(default=384, ge=32, le=4096)
    api_key: SecretStr | None = Field(default=None, description="the service's bearer key")
    api_key_file: Path | None = Field(default=None, description="read api_key from this file")
    base_url: str = Field(
        default="http://127.0.0.1:8765/v1", description="openai mode: the server's /v1 URL"
    )
    connect_timeout_s: float = Field(default=5.0, gt=0)
    extra_body: dict[str, str | float | int | bool] = Field(
        default_factory=dict, description="openai mode: more fields for every request"
    )


class Settings(FileSettings):
    model_config = SettingsConfigDict(
        env_prefix="TALEWRIGHT_", env_nested_delimiter="__", extra="forbid"
    )

    log_level: str = "INFO"
    bot: BotSection = Field(default_factory=BotSection)
    storage: StorageSection = Field(default_factory=StorageSection)
    generator: GeneratorSection = Field(default_factory=GeneratorSection)
    service: ServiceSection = Field(default_factory=ServiceSection)
    moderation: ModerationSection = Field(default_factory=ModerationSection)


def load_settings(path: Path | str | None = None, **overrides: Any) -> Settings:
    """Settings from file, environment and `overrides` (highest first: overrides, env, file);
    the file is --config, else $TALEWRIGHT_CONFIG, else ./config.toml (generators.config_file)."""
    return load_from(Settings, path, **overrides)
