"""The command tree with the bot's one error handler, and replies that work in every state an
interaction can be in (not answered yet, deferred, answered, or expired).

A person must always hear back: a `UserFacingError` becomes an ephemeral message with its text,
a cooldown says when to try again, and anything else is logged with its traceback and answered
with a short apology. Buttons and modals route their errors here too (`report_error`).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence

import discord
from discord import app_commands

from bot.discord.cooldowns import GuildBusy
from bot.discord.render import Out, no_mentions
from bot.errors import UserFacingError

log = logging.getLogger("talewright.discord")

APOLOGY = "Sorry, that went wrong on our side. It has been logged; please try again later."
EXPIRED_CODES = (10062, 10015)
"""Unknown interaction (not acknowledged in time) and unknown webhook (token expired)."""
PRIVATE = "talewright_private"
ANSWERED = "talewright_answered"


class StoryTree(app_commands.CommandTree):
    async def on_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        await report_error(interaction, error)


def explain(error: BaseException) -> str | None:
    """What the person reads for `error`; None when it is a bug."""
    if isinstance(error, UserFacingError):
        return str(error)
    if isinstance(error, GuildBusy):
        return error.text
    if isinstance(error, app_commands.CommandOnCooldown):
        return f"Slow down a little: try again in {math.ceil(error.retry_after)} s."
    if isinstance(error, app_commands.NoPrivateMessage):
        return "Stories live in servers; use this command in a server channel."
    if isinstance(error, app_commands.MissingPermissions):
        needed = ", ".join(p.replace("_", " ") for p in error.missing_permissions)
        return f"You need the {needed} permission for that."
    if isinstance(error, app_commands.CheckFailure):
        return "You cannot use that command here."
    if isinstance(error, app_commands.TransformerError):
        return f"That value for {error.transformer.type.name.lower()} could not be read."
    return None


async def report_error(interaction: discord.Interaction, error: BaseException) -> None:
    """Tell the person what went wrong, privately; log what is not their doing."""
    if isinstance(error, app_commands.CommandInvokeError):
        error = error.original
    text = explain(error)
    if text is None:
        where = interaction.command.qualified_name if interaction.command else "a component"
        log.error("interaction %s failed in %s", interaction.id, where, exc_info=error)
        text = APOLOGY
    await reply_private(interaction, text)


async def think(interaction: discord.Interaction, *, private: bool = False) -> None:
    """Acknowledge now (Discord allows 3 s) and answer later: for anything that may wait on
    the model, a file or the network."""
    interaction.extras[PRIVATE] = private
    await interaction.response.defer(ephemeral=private, thinking=True)


def _placeholder(interaction: discord.Interaction) -> bool:
    """Deferred with "thinking", and that placeholder message not replaced yet."""
    kind = interaction.response.type
    deferred = kind == discord.InteractionResponseType.deferred_channel_message
    return deferred and not interaction.extras.get(ANSWERED)


def _pending_update(interaction: discord.Interaction) -> bool:
    """A component or modal acknowledged with a deferred update: its message awaits the edit."""
    kind = interaction.response.type
    deferred = kind == discord.InteractionResponseType.deferred_message_update
    return deferred and not interaction.extras.get(ANSWERED)


async def reply(
    interaction: discord.Interaction, outs: Sequence[Out], *, private: bool = False
) -> list[discord.Message]:
    """Send `outs` as the answer: the first as the response (or in place of the "thinking"
    placeholder, or over the component's message after a deferred update), the rest as
    follow-ups. An expired interaction's public answer is posted in its channel instead, so
    a turn is never lost to a slow acknowledgement."""
    sent = []
    for out in outs:
        message = await _send(interaction, out, private)
        if message is not None:
            sent.append(message)
    return sent


async def _send(
    interaction: discord.Interaction, out: Out, private: bool
) -> discord.Message | None:
    try:
        if not interaction.response.is_done():
            callback = await interaction.response.send_message(
                ephemeral=private, **out.send_kwargs()
            )
            resource = callback.resource
            return resource if isinstance(resource, discord.Message) else None
        if _placeholder(interaction) or _pending_update(interaction):
            message = await interaction.edit_original_response(**out.edit_kwargs())
            interaction.extras[ANSWERED] = True
            return message
        return await interaction.followup.send(wait=True, ephemeral=private, **out.send_kwargs())
    except discord.NotFound as exc:
        if exc.code not in EXPIRED_CODES:
            raise
        return await _post_instead(interaction, out, private)


async def _post_instead(
    interaction: discord.Interaction, out: Out, private: bool
) -> discord.Message | None:
    channel = interaction.channel
    if private or not isinstance(channel, discord.abc.Messageable):
        log.warning("interaction %s expired before its private answer was sent", interaction.id)
        return None
    log.warning("interaction %s expired; posting its answer in the channel", interaction.id)
    return await channel.send(**out.send_kwargs())


async def reply_private(interaction: discord.Interaction, text: str) -> None:
    """A short private message, whatever state the interaction is in."""
    try:
        if not interaction.response.is_done():
            await interaction.response.send_message(
                text, ephemeral=True, allowed_mentions=no_mentions()
            )
        elif _placeholder(interaction) and interaction.extras.get(PRIVATE):
            await interaction.edit_original_response(
                content=text, embeds=[], view=None, allowed_mentions=no_mentions()
            )
            interaction.extras[ANSWERED] = True
        else:
            if _placeholder(interaction):
                # A public "thinking" placeholder would turn the error public: remove it.
                await interaction.delete_original_response()
                interaction.extras[ANSWERED] = True
            await interaction.followup.send(text, ephemeral=True, allowed_mentions=no_mentions())
    except discord.HTTPException as exc:
        log.warning("could not tell user %s: %s (%s)", interaction.user.id, text, exc)
