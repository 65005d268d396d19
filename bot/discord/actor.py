"""Who is acting, where, and with what rights: the plain ids the engine takes, read from an
interaction in one place.

Rights come in two scopes. Manage Messages in the channel of the interaction (`is_moderator`)
governs what happens to the story played there; guild-wide things (the moderation queue and
rules, every story's list, characters shared by the server) need Manage Messages for the whole
server (`is_guild_moderator`), since a channel overwrite may grant it in one channel only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

import discord

from bot.errors import UserFacingError
from bot.story.access import CanView

if TYPE_CHECKING:
    from bot.discord.story_client import StoryClient


@dataclass(frozen=True, slots=True)
class Actor:
    user_id: int
    name: str
    guild_id: int
    place_id: int
    """The channel or thread the interaction came from: where its story is played."""
    is_moderator: bool
    """Manage Messages here (channel overwrites included): rights over the story here."""
    is_guild_moderator: bool = False
    """Manage Messages server-wide: rights over the moderation queue, rules and lists."""
    can_view: CanView = field(default=lambda channel_id, thread_id: False, compare=False)
    """Whether this member can read a channel (and thread) of the guild."""

    @classmethod
    def of(cls, interaction: discord.Interaction) -> Actor:
        if interaction.guild_id is None or interaction.channel_id is None:
            raise UserFacingError("Stories live in servers; use this in a server channel.")
        user = interaction.user
        guild_wide = isinstance(user, discord.Member) and user.guild_permissions.manage_messages
        return cls(
            user_id=user.id,
            name=user.display_name,
            guild_id=interaction.guild_id,
            place_id=interaction.channel_id,
            is_moderator=interaction.permissions.manage_messages,
            is_guild_moderator=guild_wide,
            can_view=viewer(interaction),
        )


def viewer(interaction: discord.Interaction) -> CanView:
    """What the interaction's member can read, from the bot's cache of the guild's channels,
    roles and permission overwrites. A channel the bot does not know is not readable. A thread
    is readable with its channel, except a private thread, which needs membership, ownership
    or Manage Threads; a thread missing from the cache (archived) is judged by its channel."""
    guild = interaction.guild
    member = interaction.user
    here = interaction.channel_id

    def can_view(channel_id: int, thread_id: int | None) -> bool:
        if here is not None and here == (thread_id or channel_id):
            return True
        if guild is None or not isinstance(member, discord.Member):
            return False
        channel = guild.get_channel(channel_id)
        if channel is None or isinstance(channel, discord.CategoryChannel):
            return False
        allowed = channel.permissions_for(member)
        if not (allowed.view_channel and allowed.read_message_history):
            return False
        thread = guild.get_thread(thread_id) if thread_id is not None else None
        if thread is None or not thread.is_private():
            return True
        return (
            allowed.manage_threads
            or thread.owner_id == member.id
            or any(joined.id == member.id for joined in thread.members)
        )

    return can_view


def story_bot(interaction: discord.Interaction) -> StoryClient:
    """The bot an interaction came to, with its engine and shared state."""
    return cast("StoryClient", interaction.client)
