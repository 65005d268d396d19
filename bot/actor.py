"""Who is acting, where, and with what rights: the plain ids the engine takes, read from an
interaction in one place."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

import discord

from bot.errors import UserFacingError

if TYPE_CHECKING:
    from bot.client import StoryBot


@dataclass(frozen=True, slots=True)
class Actor:
    user_id: int
    name: str
    guild_id: int
    place_id: int
    """The channel or thread the interaction came from: where its story is played."""
    is_moderator: bool

    @classmethod
    def of(cls, interaction: discord.Interaction) -> Actor:
        """The engine treats Manage Messages as moderator rights."""
        if interaction.guild_id is None or interaction.channel_id is None:
            raise UserFacingError("Stories live in servers; use this in a server channel.")
        return cls(
            user_id=interaction.user.id,
            name=interaction.user.display_name,
            guild_id=interaction.guild_id,
            place_id=interaction.channel_id,
            is_moderator=interaction.permissions.manage_messages,
        )


def story_bot(interaction: discord.Interaction) -> StoryBot:
    return cast("StoryBot", interaction.client)
