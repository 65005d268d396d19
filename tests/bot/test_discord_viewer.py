"""viewer: which stories a member may read, from the bot's cache of channels and threads."""

from __future__ import annotations

from unittest.mock import MagicMock

import discord

from bot.discord.actor import viewer

MEMBER_ID, OWNER_ID, CHANNEL_ID, THREAD_ID, HERE_ID = 11, 22, 100, 200, 300


def _interaction(*, in_thread: list[int], manage_threads: bool = False) -> discord.Interaction:
    """A member in channel HERE_ID asking about private thread THREAD_ID of CHANNEL_ID, whose
    cached members are `in_thread`. Specs keep the fakes to the attributes discord.py has."""
    member = MagicMock(spec=discord.Member, id=MEMBER_ID)
    channel = MagicMock(spec=discord.TextChannel)
    channel.permissions_for.return_value = discord.Permissions(
        view_channel=True, read_message_history=True, manage_threads=manage_threads
    )
    thread = MagicMock(spec=discord.Thread, owner_id=OWNER_ID)
    thread.is_private.return_value = True
    thread.members = [MagicMock(spec=discord.ThreadMember, id=user_id) for user_id in in_thread]
    guild = MagicMock(spec=discord.Guild)
    guild.get_channel.return_value = channel
    guild.get_thread.return_value = thread
    return MagicMock(spec=discord.Interaction, guild=guild, user=member, channel_id=HERE_ID)


def test_a_member_of_a_private_thread_may_read_it() -> None:
    assert viewer(_interaction(in_thread=[OWNER_ID, MEMBER_ID]))(CHANNEL_ID, THREAD_ID)


def test_a_private_thread_is_closed_to_others_without_manage_threads() -> None:
    assert not viewer(_interaction(in_thread=[OWNER_ID]))(CHANNEL_ID, THREAD_ID)
    assert viewer(_interaction(in_thread=[], manage_threads=True))(CHANNEL_ID, THREAD_ID)
