"""Branching: `/story fork [at:turn]` starts a new story from this one as it read up to a turn.

The fork has the same settings, characters and lore, its own place (a new thread on Discord, a
place of its own in the terminal), and the forker as owner and first member; the original goes
on untouched. Both know of each other (`StoryLinks`). A story the caller cannot see is answered
as unknown, before the front end opens any thread for it.
"""

from __future__ import annotations

from bot.errors import InvalidInput
from bot.story.access import CanView
from bot.story.core import display_name
from bot.story.failures import user_errors
from bot.story.links import story_links
from bot.story.reading import Reading
from bot.story.results import ForkPlan, ForkResult


class Forks(Reading):
    @user_errors
    async def plan_fork(
        self,
        *,
        channel_id: int | None = None,
        story_id: int | None = None,
        guild_id: int | None = None,
        at_turn: int | None = None,
        can_view: CanView | None = None,
    ) -> ForkPlan:
        """What a fork would start from: the story (if the caller can see it) and the turn it
        stops at; refused with the reason otherwise. Nothing is written."""
        story = await self._readable(channel_id, story_id, guild_id, can_view)
        kept = await self.storage.turns.count_accepted(story.id)
        if kept == 0:
            raise InvalidInput("The story has no kept turns yet; there is nothing to fork.")
        if at_turn is None:
            last = await self.storage.turns.recent_accepted(story.id, 1)
            return ForkPlan(story.id, story.title, last[-1].id, last[-1].slot)
        turn = await self.storage.turns.get(at_turn)
        if turn is None or turn.story_id != story.id or turn.state != "accepted" or turn.hidden:
            raise InvalidInput(
                f"Turn #{at_turn} is not a kept turn of this story; fork at one of its turns "
                "(turn #N under each)."
            )
        return ForkPlan(story.id, story.title, turn.id, turn.slot)

    @user_errors
    async def fork(
        self,
        plan: ForkPlan,
        user_id: int,
        user_name: str,
        *,
        channel_id: int,
        thread_id: int | None = None,
    ) -> ForkResult:
        """Start the fork `plan_fork` planned, played in (channel_id, thread_id)."""
        name = display_name(user_id, user_name)
        story = await self.storage.forks.fork(
            plan.story_id,
            plan.at_slot,
            channel_id=channel_id,
            thread_id=thread_id,
            owner_id=user_id,
            owner_name=name,
        )
        return ForkResult(
            story=await self._info(story),
            links=await story_links(self.storage, story),
            turns=await self.storage.turns.count_accepted(story.id),
        )
