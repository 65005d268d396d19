"""`/story fork [at:turn]` on Discord: a new thread whose story starts as this one read up to
that turn, its card saying where it came from, and the last turns of the story so far.

The engine refuses a story the caller cannot see before any thread is opened, so a refusal
leaves nothing behind; a thread whose fork could not start is deleted when the bot may.
"""

from __future__ import annotations

import logging

import discord

from bot.discord.actor import Actor, story_bot
from bot.discord.present import post
from bot.discord.render import Out, escape, story_embed, turn_embed
from bot.discord.tree import reply, think
from bot.errors import PermissionDenied, UserFacingError
from bot.story.links import link_notes

log = logging.getLogger("talewright.discord")

SHOWN_TURNS = 5
"""Turns of the story so far posted in the fork's thread; /story show has all of them."""
THREAD_ARCHIVE_MINUTES = 10080


async def fork_command(
    interaction: discord.Interaction, at_turn: int | None, story_id: int | None
) -> None:
    actor, bot = Actor.of(interaction), story_bot(interaction)
    await think(interaction)
    which = {"story_id": story_id} if story_id is not None else {"channel_id": actor.place_id}
    plan = await bot.engine.plan_fork(
        guild_id=actor.guild_id, at_turn=at_turn, can_view=actor.can_view, **which
    )
    thread = await _open_thread(interaction, f"{plan.title} (fork)")
    try:
        result = await bot.engine.fork(
            plan, actor.user_id, actor.name, channel_id=thread.parent_id or 0, thread_id=thread.id
        )
    except UserFacingError:
        await _discard(interaction, thread)
        raise
    card = Out(
        content="\n".join(escape(note) for note in link_notes(result.links)) or None,
        embeds=[story_embed(result.story, "Forked story")],
    )
    page = await bot.engine.show(story_id=result.story.id, page_size=SHOWN_TURNS)
    so_far = Out(content=f"The story so far (the last {len(page.turns)} of {page.total} turns):")
    turns = [Out(embeds=[turn_embed(turn)]) for turn in page.turns]
    await post(bot, thread.id, [card, so_far, *turns])
    said = (
        f"Forked **{escape(plan.title)}** at turn #{plan.at_turn} into {thread.mention}; "
        "this story goes on here as it was."
    )
    await reply(interaction, [Out(content=said)])


async def _open_thread(interaction: discord.Interaction, name: str) -> discord.Thread:
    """A public thread in the text channel asked in (or the one whose thread it was asked in)."""
    channel = interaction.channel
    if isinstance(channel, discord.Thread):
        channel = channel.parent
    allowed = interaction.app_permissions
    if not isinstance(channel, discord.TextChannel) or not (
        allowed.create_public_threads and allowed.send_messages_in_threads
    ):
        raise PermissionDenied(
            "A fork needs a new thread, and I cannot open one here (Create Public Threads and "
            "Send Messages in Threads); ask in a text channel where I can."
        )
    thread = await channel.create_thread(
        name=name.strip()[:100] or "Fork",
        type=discord.ChannelType.public_thread,
        auto_archive_duration=THREAD_ARCHIVE_MINUTES,
    )
    try:
        await thread.add_user(interaction.user)
    except discord.HTTPException as exc:
        log.info("could not add the forker to thread %s: %s", thread.id, exc)
    return thread


async def _discard(interaction: discord.Interaction, thread: discord.Thread) -> None:
    if not interaction.app_permissions.manage_threads:
        log.info("left unused fork thread %s: no Manage Threads permission", thread.id)
        return
    try:
        await thread.delete()
    except discord.HTTPException as exc:
        log.info("could not delete unused fork thread %s: %s", thread.id, exc)
