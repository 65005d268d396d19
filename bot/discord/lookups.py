"""Reads the engine has no operation for: the character names to offer in autocomplete (the
story's own cast first, then the guild's). Read-only, straight from storage's repositories."""

from __future__ import annotations

import logging

import discord
from discord.app_commands import Choice

from bot.story import StoryEngine

MAX_CHOICES = 25

log = logging.getLogger(__name__)


async def character_names(
    engine: StoryEngine, guild_id: int, place_id: int, typed: str
) -> list[str]:
    """Up to 25 names: characters in the story here containing `typed`, then the guild's
    characters starting with it."""
    storage = engine.storage
    wanted = typed.strip().casefold()
    story = await storage.stories.get_active_for_channel(place_id)
    linked = await storage.characters.list_for_story(story.id) if story is not None else []
    names = [c.name for c in linked if wanted in c.name.casefold()]
    for name in await storage.characters.search_names(guild_id, typed.strip(), MAX_CHOICES):
        if name not in names:
            names.append(name)
    return names[:MAX_CHOICES]


async def character_choices(
    engine: StoryEngine, interaction: discord.Interaction, current: str
) -> list[Choice[str]]:
    """Autocomplete choices for a character option; a failed lookup offers nothing rather than
    an error, since Discord shows autocomplete failures to nobody."""
    if interaction.guild_id is None or interaction.channel_id is None:
        return []
    try:
        names = await character_names(engine, interaction.guild_id, interaction.channel_id, current)
    except Exception:
        log.exception("character autocomplete failed")
        return []
    return [Choice(name=name, value=name) for name in names]
