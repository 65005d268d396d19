"""The engine's knobs, taken from settings at the entry point so the engine never reads files."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from generators.context_size import MAX_CONTEXT_CHARS
from storage.models import ModerationLevel

if TYPE_CHECKING:
    from bot.settings import Settings


@dataclass(frozen=True, slots=True)
class EngineOptions:
    """Limits, generation defaults and timings of one engine.

    `default_moderation_level` applies to guilds that never saved moderation settings.
    """

    max_turn_chars: int = 1800
    max_tokens: int = 70
    candidates: int = 3
    temperature: float = 0.8
    top_p: float = 0.95
    repetition_penalty: float = 1.1
    model: str | None = None
    generation_timeout_s: float = 60.0
    reroll_vote_window_s: float = 60.0
    context_turns: int = 50
    context_chars: int = MAX_CONTEXT_CHARS
    """The most story text one request carries (the generation service refuses more)."""
    recap_turns: int = 8
    max_characters_per_user: int = 50
    card_imports_per_window: int = 10
    """Character card imports one member may start per `card_import_window_s`, in a guild."""
    card_import_window_s: float = 600.0
    pending_turn_hold_s: float = 120.0
    """How long a free-mode model turn is only its asker's (and the owner's) to move past."""
    default_moderation_level: ModerationLevel = "teen"

    @classmethod
    def from_settings(cls, settings: Settings) -> EngineOptions:
        generator = settings.generator
        return cls(
            max_turn_chars=settings.bot.max_turn_chars,
            max_tokens=generator.max_tokens,
            candidates=generator.candidates,
            temperature=generator.temperature,
            top_p=generator.top_p,
            repetition_penalty=generator.repetition_penalty,
            model=generator.model,
            generation_timeout_s=generator.timeout_s,
            reroll_vote_window_s=settings.bot.reroll_vote_window_s,
            recap_turns=settings.bot.recap_turns,
            max_characters_per_user=settings.bot.max_characters_per_user,
            card_imports_per_window=settings.bot.card_imports_per_window,
            card_import_window_s=settings.bot.card_import_window_s,
            pending_turn_hold_s=settings.bot.pending_turn_hold_s,
            context_chars=min(MAX_CONTEXT_CHARS, settings.service.max_context_chars),
            default_moderation_level=settings.moderation.default_level,
        )
