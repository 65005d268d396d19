"""The story engine: no Discord, no torch; plain ids and text in, result dataclasses out."""

from bot.story.engine import StoryEngine
from bot.story.options import EngineOptions

__all__ = ["EngineOptions", "StoryEngine"]
