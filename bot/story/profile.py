"""A writer's style profile: see it, set preferences, or forget it.

Preferences shape the model turns a writer asks for: `length` (short, medium, long) scales the
number of tokens, `temperature` (0.2 to 1.5) how adventurous the sampling is. Forgetting deletes
the profile and the writer's feedback everywhere (the data-deletion hook a bot owes its users).
"""

from __future__ import annotations

from typing import Any

from bot.errors import InvalidInput
from bot.story.core import EngineCore
from bot.story.failures import user_errors
from bot.story.results import ForgetResult, StyleView

LENGTHS = ("short", "medium", "long")
TEMPERATURE_RANGE = (0.2, 1.5)
PREFERENCES = ("length", "temperature")


class StyleProfiles(EngineCore):
    @user_errors
    async def style_show(self, user_id: int) -> StyleView:
        profile = await self.storage.styles.get(user_id)
        if profile is None:
            return StyleView(user_id, 0, False, {}, {})
        return StyleView(
            user_id=user_id,
            sentences=profile.count,
            has_vector=bool(profile.count and profile.vector),
            stats=dict(profile.stats),
            preferences=dict(profile.preferences),
        )

    @user_errors
    async def style_set(self, user_id: int, **preferences: Any) -> StyleView:
        """Set preferences; a value of None (or "default") removes one."""
        checked = {key: check_preference(key, value) for key, value in preferences.items()}
        if not checked:
            raise InvalidInput(f"Say what to set: {', '.join(PREFERENCES)}.")
        await self.storage.styles.set_preferences(user_id, checked)
        return await self.style_show(user_id)

    @user_errors
    async def style_forget(self, user_id: int) -> ForgetResult:
        return ForgetResult(user_id=user_id, deleted=await self.storage.forget_user(user_id))


def check_preference(key: str, value: Any) -> Any:
    if key not in PREFERENCES:
        raise InvalidInput(f"Unknown style preference {key!r}; use {', '.join(PREFERENCES)}.")
    if value is None or value == "default":
        return None
    if key == "length":
        if value not in LENGTHS:
            raise InvalidInput(f"length must be one of {', '.join(LENGTHS)}.")
        return value
    low, high = TEMPERATURE_RANGE
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = float("nan")
    if not low <= number <= high:
        raise InvalidInput(f"temperature must be a number from {low} to {high}.")
    return number
