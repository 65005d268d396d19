"""The round-robin clock on Discord: every `deadline_poll_s` the engine handles turns whose
time ran out (deadlines live in the database, so ones that passed while the bot was down are
handled on the first tick after a restart) and the bot announces each in the story's place."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord.ext import tasks

from bot.discord.present import post
from bot.discord.render import Out, next_writer_ping, turn_embed
from bot.errors import UserFacingError
from bot.story.results import DeadlineEvent
from bot.story.turns import MODEL_USER_ID

if TYPE_CHECKING:
    from bot.discord.story_client import StoryClient

log = logging.getLogger("talewright.deadlines")


def announcement(event: DeadlineEvent) -> Out:
    """What happened (with the turn the model wrote, if it did), pinging the next writer."""
    ping = next_writer_ping(event.story, None)
    mark = "✍️" if event.action == "model_wrote" or event.missed.user_id == MODEL_USER_ID else "⏰"
    lines = [f"{mark} {event.message}"]
    if ping is not None and ping.content:
        lines.append(ping.content)
    return Out(
        content="\n".join(lines),
        embeds=[turn_embed(event.turn)] if event.turn is not None else [],
        ping=ping.ping if ping is not None else None,
    )


class DeadlineWatcher:
    def __init__(self, bot: StoryClient, every_s: float) -> None:
        self.bot = bot
        self.task = tasks.loop(seconds=every_s)(self.tick)
        self.task.before_loop(self.bot.wait_until_ready)

    def start(self) -> None:
        self.task.start()

    def stop(self) -> None:
        self.task.cancel()

    async def tick(self) -> None:
        """One pass; a failure is logged and the next tick tries again."""
        try:
            events = await self.bot.engine.process_due()
        except UserFacingError as exc:
            log.warning("could not check round-robin deadlines: %s", exc)
            return
        except Exception:
            log.exception("checking round-robin deadlines failed")
            return
        for event in events:
            try:
                await post(self.bot, event.story.place_id, [announcement(event)])
            except discord.HTTPException as exc:
                log.warning("could not announce a timeout in %s: %s", event.story.place_id, exc)
