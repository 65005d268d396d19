"""The generation service's settings: the `[service]` and `[moderation]` tables of config.toml,
overridden by `TALEWRIGHT_SERVICE__*` and `TALEWRIGHT_MODERATION__*` variables.

Defined here, not in the bot, so the service runs and ships without importing `bot`; the bot's
settings (bot/settings.py) use these same section classes for the same tables of the same file.
The service reads a config file shared with the bot, so the bot's tables (`[bot]`, `[storage]`,
`[generator]`) are ignored here; within each table an unknown key is refused.
Torch-free: reading the settings stays cheap.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr
from pydantic_settings import SettingsConfigDict

from generators.config_file import FileSettings, load_from
from generators.context_size import MAX_CONTEXT_CHARS
from generators.inference.model_specs import ModelSpec
from generators.paths import VAE_CHECKPOINT, bundled_checkpoints, retrieval_index
from generators.schemas import ModerationLevel


class Section(BaseModel):
    """One table of config.toml: a misspelt key is an error, not a silent default."""

    model_config = ConfigDict(extra="forbid")


class ServedFiles(Section):
    """What a generation engine loads, in the service's `[service]` and the bot's in-process
    `[generator]` alike."""

    checkpoints: list[Path] = Field(default_factory=bundled_checkpoints)
    models: list[ModelSpec] = Field(default_factory=list)
    """More models to serve beside `checkpoints` (`[[...models]]` tables: id, path, format =
    "huggingface" for a causal-LM folder brought from elsewhere); see
    generators.inference.served_models."""
    vae_checkpoint: Path | None = VAE_CHECKPOINT
    """The sentence VAE for twists and style vectors; none there: twists from the LM alone."""
    retrieval_index: Path | None = Field(default_factory=retrieval_index)
    """The passage index (generators.retrieval; `make retrieval-index` builds it): recast
    corpus passages compete with the model's own turns. None, or not built: the model alone."""


class ServiceSection(ServedFiles):
    host: str = "127.0.0.1"
    port: int = Field(default=8765, ge=0, le=65535)
    device: str = "auto"
    precision: Literal["fp32", "bf16", "auto"] = "fp32"
    """CPU model steps in bfloat16 (`auto`: where the CPU has AMX or AVX-512 BF16 and a probe
    step runs; `bf16` on a CPU that cannot run it refuses to start); see
    generators.service.loading.serving_autocast for why float32 is the default."""
    threads: int | None = Field(default=None, ge=1)
    """Torch threads per operation; unset: one (`generators.inference.cpu_threads`, which says
    why and when more pays)."""
    batching: bool = True
    max_batch: int = Field(default=64, ge=1, le=4096)
    max_queue: int = Field(default=256, ge=1)
    request_deadline_s: float = Field(default=30.0, gt=0)
    max_context_chars: int = Field(default=MAX_CONTEXT_CHARS, ge=100)
    prompt_budget: int = Field(default=384, ge=32, le=4096)
    max_regenerations: int = Field(default=2, ge=0, le=10)
    api_key: SecretStr | None = None
    """Bearer key every request must send (TALEWRIGHT_SERVICE__API_KEY); none: the service is
    open, which it refuses beyond loopback unless `allow_unauthenticated_remote`."""
    api_key_file: Path | None = Field(default=None, description="read api_key from this file")
    protect_probes: bool = Field(default=False, description="/healthz, /readyz, /metrics too")
    allow_unauthenticated_remote: bool = False
    max_body_bytes: int = Field(default=2 * 1024 * 1024, ge=1024)
    side_workers: int = Field(default=2, ge=1, le=64)
    """Threads for twists, style leads, embeddings and moderation beside the batch."""
    side_queue: int = Field(default=32, ge=0)
    """Side work waiting for a thread before more is refused (503)."""
    moderation_level: ModerationLevel = "teen"
    """The level of the OpenAI-compatible endpoints (a request may ask for a stricter one)."""


class ModerationSection(Section):
    default_level: ModerationLevel = "teen"
    use_classifier: bool = True
    classifier_threshold: float = Field(default=0.97, gt=0.5, le=1.0)
    max_regenerations: int = Field(default=2, ge=0, le=10)


class ServiceSettings(FileSettings):
    """What `python -m generators.service` reads: its own tables of a config file it may share
    with the bot."""

    model_config = SettingsConfigDict(
        env_prefix="TALEWRIGHT_", env_nested_delimiter="__", extra="ignore"
    )

    service: ServiceSection = Field(default_factory=ServiceSection)
    moderation: ModerationSection = Field(default_factory=ModerationSection)


def load_service_settings(path: Path | str | None = None, **overrides: Any) -> ServiceSettings:
    """The service's settings from file, environment and `overrides` (highest first)."""
    return load_from(ServiceSettings, path, **overrides)
