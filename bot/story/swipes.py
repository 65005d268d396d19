"""Choosing a model turn: reroll (another alternative of the same slot), swipe between the
alternatives, and keep one.

Alternatives are kept like SillyTavern's swipes; swiping marks the alternative shown, and the
one shown last is what the story keeps if it moves on without a Keep. A story's reroll policy
says who may reroll: `owner` (the owner or a moderator) or `vote`, where a majority of the
members present must vote within the vote window. Votes are recorded against the slot's newest
alternative, so each new alternative starts a fresh count; a vote lasts for the window, and
voting again renews it. Choosing between alternatives (swipe, keep) is for whoever asked for
the turn, the story's owner and moderators.

A button names its turn by id alone, so the front end passes where it was pressed (`guild_id`,
`place_id`): a turn of a story in another guild, channel or thread is answered as unknown.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.errors import InvalidInput, NotParticipant, PermissionDenied, UnknownTurn
from bot.story.access import played_in
from bot.story.core import current_alternative, name_for, require_active, require_owner
from bot.story.failures import user_errors
from bot.story.generation import REQUEST_KIND, Ask, Generation, fallback_notice
from bot.story.results import KeepResult, RerollResult, SwipeResult, TurnView, VoteTally
from storage.models import Participant, Story, Turn, TurnScene

_SETTLED = (
    "That turn was already kept or removed, so it has no alternatives to choose from; "
    "/story undo removes the last turn."
)


class Swipes(Generation):
    @user_errors
    async def pending(self, channel_id: int) -> TurnView | None:
        """The alternative waiting for Keep here (the one shown last), if any."""
        return await self._pending_view(await self._story_here(channel_id))

    @user_errors
    async def reroll(
        self,
        turn_id: int,
        user_id: int,
        *,
        user_name: str | None = None,
        is_moderator: bool = False,
        guild_id: int | None = None,
        place_id: int | None = None,
    ) -> RerollResult:
        """Write another alternative for the slot of `turn_id` (or count a vote for one)."""
        scene = await self._scene_at(turn_id, guild_id, place_id)
        turn, story, participants = scene.turn, scene.story, scene.participants
        require_active(story)
        if turn.state != "pending":
            raise InvalidInput(_SETTLED)
        names = {p.user_id: p.display_name for p in participants}
        alternatives = scene.alternatives
        tally = None
        if story.reroll_policy == "vote" and not is_moderator:
            tally = await self._vote(participants, alternatives, user_id)
            if tally.votes < tally.needed:
                return RerollResult(
                    story=await self._info(story, participants),
                    turn=await self._view(current_alternative(alternatives), names),
                    rerolled=False,
                    votes=tally,
                )
        elif story.reroll_policy == "owner":
            require_owner(story, user_id, is_moderator, "reroll in this story")
        async with self.locks.hold(story.id):
            latest = await self.storage.turns.list_alternatives(story.id, turn.slot)
            if any(alt.state != "pending" for alt in latest):
                raise InvalidInput(_SETTLED)
            if len(latest) != len(alternatives):
                return RerollResult(
                    story=await self._info(story, participants),
                    turn=await self._view(current_alternative(latest), names),
                    rerolled=False,
                    votes=tally,
                    notices=("Someone else's reroll already brought a new alternative.",),
                )
            speaker = None
            if turn.character_id is not None:
                speaker = await self.storage.characters.get(turn.character_id)
            ask = Ask(
                kind=REQUEST_KIND[turn.kind],
                requester_id=user_id,
                requester_name=name_for(user_id, user_name, names),
                speaker=speaker,
                theme=turn.params.get("theme"),
                speaker_name=turn.character_name,
            )
            rules = await self.guard.rules(story.guild_id)
            generated = await self._generate(
                story, ask, rules, before_slot=turn.slot, avoid=[alt.text for alt in latest]
            )
            added = await self.storage.turns.add_alternative(
                story.id, turn.slot, self._draft(ask, generated)
            )
        return RerollResult(
            story=await self._info(story, participants),
            turn=await self._view(added, names),
            rerolled=True,
            votes=tally,
            fallback=generated.fallback,
            notices=fallback_notice(generated),
        )

    async def _vote(
        self, participants: Sequence[Participant], alternatives: Sequence[Turn], user_id: int
    ) -> VoteTally:
        present = {p.user_id: p.display_name for p in participants if p.active}
        if user_id not in present:
            raise NotParticipant("Only people in this story can vote to reroll; /story join first.")
        newest = max(alternatives, key=lambda alt: alt.alt_index)
        feedback = self.storage.feedback
        await feedback.renew(newest.id, user_id, "reroll_vote")
        since = self.clock() - self.options.reroll_vote_window_s
        counted = [
            v for v in await feedback.voters(newest.id, "reroll_vote", since=since) if v in present
        ]
        return VoteTally(
            turn_id=newest.id,
            votes=len(counted),
            needed=len(present) // 2 + 1,
            eligible=len(present),
            voters=tuple(present[v] for v in counted),
        )

    @user_errors
    async def swipe(
        self,
        turn_id: int,
        user_id: int,
        step: int = 1,
        *,
        is_moderator: bool = False,
        guild_id: int | None = None,
        place_id: int | None = None,
    ) -> SwipeResult:
        """Show the alternative `step` places from `turn_id` (stopping at the ends)."""
        scene = await self._scene_at(turn_id, guild_id, place_id)
        turn, story, alternatives = scene.turn, scene.story, scene.alternatives
        require_active(story)
        if turn.state != "pending":
            raise InvalidInput(_SETTLED)
        _may_choose(story, alternatives, user_id, is_moderator)
        index = [alt.id for alt in alternatives].index(turn.id)
        target = min(max(index + step, 0), len(alternatives) - 1)
        async with self.locks.hold(story.id):
            shown = await self.storage.turns.mark_shown(alternatives[target].id)
        notices: tuple[str, ...] = ()
        if target == index and step:
            end = "last" if step > 0 else "first"
            notices = (f"This is the {end} alternative; /story reroll writes another.",)
        names = {p.user_id: p.display_name for p in scene.participants}
        return SwipeResult(
            story=await self._info(story, scene.participants),
            turn=await self._view(shown, names, alternatives),
            moved=target != index,
            notices=notices,
        )

    @user_errors
    async def keep(
        self,
        turn_id: int,
        user_id: int,
        *,
        is_moderator: bool = False,
        guild_id: int | None = None,
        place_id: int | None = None,
    ) -> KeepResult:
        """Accept exactly this alternative; the slot's others are discarded."""
        scene = await self._scene_at(turn_id, guild_id, place_id)
        turn, story, members = scene.turn, scene.story, scene.participants
        require_active(story)
        if turn.state == "discarded":
            raise InvalidInput("That alternative was discarded, so it cannot be kept.")
        _may_choose(story, scene.alternatives, user_id, is_moderator)
        discarded = 0
        if turn.state == "pending":
            async with self.locks.hold(story.id):
                turn = await self.storage.keep_turn(turn.id, user_id)
            discarded = len(scene.alternatives) - 1
        return KeepResult(
            story=await self._info(story, members),
            turn=await self._view(turn, {p.user_id: p.display_name for p in members}),
            discarded=discarded,
        )

    async def _scene_at(
        self, turn_id: int, guild_id: int | None, place_id: int | None
    ) -> TurnScene:
        """The turn's scene, if its story is in `guild_id` and played at `place_id` (each
        checked when given); otherwise the turn is unknown here."""
        scene = await self._turn_scene(turn_id)
        story = scene.story
        if (guild_id is not None and story.guild_id != guild_id) or (
            place_id is not None and not played_in(story, place_id)
        ):
            raise UnknownTurn(f"There is no turn with id {turn_id} in this story.")
        return scene


def _may_choose(
    story: Story, alternatives: Sequence[Turn], user_id: int, is_moderator: bool
) -> None:
    if is_moderator or user_id == story.owner_id:
        return
    if any(alt.author_id == user_id for alt in alternatives):
        return
    raise PermissionDenied(
        "Only the person who asked for this turn, the story's owner or a moderator can choose "
        "between its alternatives."
    )
