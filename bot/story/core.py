"""What every part of the engine shares: its collaborators, lookups, permissions and the
bookkeeping of pending turns and round-robin seats.

Pending turns: a slot's alternatives stay pending until someone keeps one. The alternative a
front end made or showed last (highest `shown_seq`) is the slot's *current* one; when the story
moves on (a new turn is written or generated, or the story ends) the current alternative is
kept automatically, by the person whose action moved it on.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence

from bot.errors import (
    InvalidInput,
    ModerationBlocked,
    NoActiveStory,
    NotParticipant,
    NotYourTurn,
    PermissionDenied,
    StoryEnded,
    StoryPaused,
    UnknownCharacter,
    UnknownStory,
    UnknownTurn,
)
from bot.story.from_records import story_info, turn_view
from bot.story.guard import Checked, Guard, GuildRules
from bot.story.locks import StoryLocks
from bot.story.options import EngineOptions
from bot.story.results import StoryInfo, TurnView
from bot.story.style import StyleMemory
from bot.story.table import pick_character, require_voice
from bot.story.turns import current_writer, deadline, next_after, seats
from generators.client import Generator
from generators.moderation import Moderator
from storage.errors import Conflict, StorageError
from storage.models import Character, ModerationSource, Participant, Story, Turn, TurnScene
from storage.repositories import Storage

log = logging.getLogger("talewright.engine")

MAX_NAME_CHARS = 100


def current_alternative(alternatives: Sequence[Turn]) -> Turn:
    """The alternative made or shown last."""
    return max(alternatives, key=lambda turn: (turn.shown_seq, turn.alt_index))


def current_pending(pending: Sequence[Turn]) -> list[Turn]:
    """The current alternative of every pending slot, in story order; one a moderator hid is
    never shown or kept."""
    slots: dict[int, list[Turn]] = {}
    for turn in pending:
        if not turn.hidden:
            slots.setdefault(turn.slot, []).append(turn)
    return [current_alternative(slots[slot]) for slot in sorted(slots)]


def display_name(user_id: int, user_name: str | None) -> str:
    """A name fit for bylines: one line, no control characters, at most 100 characters."""
    cleaned = " ".join("".join(c for c in (user_name or "") if c.isprintable() or c == " ").split())
    return cleaned[:MAX_NAME_CHARS] or f"user {user_id}"


def name_for(user_id: int, user_name: str | None, names: Mapping[int, str]) -> str:
    """The name to show for a user: the one the front end just sent, else the story's."""
    if user_name and user_name.strip():
        return display_name(user_id, user_name)
    return names.get(user_id) or display_name(user_id, None)


class EngineCore:
    """The engine's state and shared helpers; the operations live in the classes built on it."""

    def __init__(
        self,
        storage: Storage,
        generator: Generator,
        moderator: Moderator,
        options: EngineOptions | None = None,
        *,
        style: StyleMemory | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.storage = storage
        self.generator = generator
        self.options = options or EngineOptions()
        self.guard = Guard(moderator, storage.guilds, self.options.default_moderation_level)
        self.locks = StoryLocks(storage.story_locks)
        self.style = style
        self.clock = clock

    # --- finding things ---------------------------------------------------------------------

    async def _story_here(self, channel_id: int) -> Story:
        """The story (active or paused) played where the command came from."""
        story = await self.storage.stories.get_active_for_channel(channel_id)
        if story is None:
            raise await self._nothing_here(channel_id)
        return story

    async def _playable_story(self, channel_id: int) -> Story:
        story = await self._story_here(channel_id)
        require_active(story)
        return story

    async def _playable_story_with_people(self, channel_id: int) -> tuple[Story, list[Participant]]:
        """The playable story here and everyone who ever joined it, in one read."""
        found = await self.storage.stories.get_active_with_participants(channel_id)
        if found is None:
            raise await self._nothing_here(channel_id)
        require_active(found[0])
        return found

    async def _nothing_here(self, channel_id: int) -> NoActiveStory | StoryEnded:
        """Why nothing is played here: the story here has ended (how to read it, and to start
        another), or there never was one."""
        ended = await self.storage.stories.last_ended_for_channel(channel_id)
        if ended is None:
            return NoActiveStory()
        return StoryEnded(
            f"The story here (#{ended.id}) has ended: read it with /story show story:{ended.id}, "
            "or start a new one with /story start."
        )

    async def _story(
        self,
        *,
        channel_id: int | None = None,
        story_id: int | None = None,
        guild_id: int | None = None,
    ) -> Story:
        """A story by id (of `guild_id`, when given), else the one played in the channel."""
        if story_id is None:
            if channel_id is None:
                raise InvalidInput("Say which story: give its id, or ask in its channel.")
            return await self._story_here(channel_id)
        story = await self.storage.stories.get(story_id)
        if story is None or (guild_id is not None and story.guild_id != guild_id):
            raise UnknownStory(f"There is no story with id {story_id} here.")
        return story

    async def _turn_scene(self, turn_id: int) -> TurnScene:
        scene = await self.storage.turn_scene(turn_id)
        if scene is None:
            raise UnknownTurn(f"There is no turn with id {turn_id}.")
        return scene

    async def _turn(self, turn_id: int) -> tuple[Turn, Story]:
        turn = await self.storage.turns.get(turn_id)
        story = None if turn is None else await self.storage.stories.get(turn.story_id)
        if turn is None or story is None:
            raise UnknownTurn(f"There is no turn with id {turn_id}.")
        return turn, story

    async def _voiced_character(
        self, story: Story, participants: Sequence[Participant], name: str, user_id: int
    ) -> Character:
        """The character a writer means by `name`, if the table lets them write as it."""
        linked = await self.storage.characters.list_for_story(story.id)
        own = await self.storage.characters.get_by_name(story.guild_id, name, owner_id=user_id)
        character = pick_character(name, user_id, own, linked)
        if character is None:
            character = await self._find_character(story.guild_id, name)
        require_voice(character, user_id, participants, linked)
        return character

    async def _find_character(
        self, guild_id: int, name: str, user_id: int | None = None
    ) -> Character:
        """The caller's own character of that name, else the guild's oldest one."""
        characters = self.storage.characters
        found = None
        if user_id is not None:
            found = await characters.get_by_name(guild_id, name, owner_id=user_id)
        if found is None:
            found = await characters.get_by_name(guild_id, name)
        if found is None:
            raise UnknownCharacter(
                f'There is no character called "{name.strip()}" here; create it with '
                "/character create."
            )
        return found

    async def _participants(self, story_id: int) -> list[Participant]:
        """Everyone who ever joined, in seat order (those who left still have bylines)."""
        return await self.storage.stories.list_participants(story_id, include_left=True)

    async def _names(self, story_id: int) -> dict[int, str]:
        return {p.user_id: p.display_name for p in await self._participants(story_id)}

    # --- views -----------------------------------------------------------------------------

    async def _info(
        self, story: Story, participants: Sequence[Participant] | None = None
    ) -> StoryInfo:
        members = await self._participants(story.id) if participants is None else participants
        characters: dict[int, str] = {}
        if any(p.character_id for p in members if p.active):
            linked = await self.storage.characters.list_for_story(story.id)
            characters = {character.id: character.name for character in linked}
        return story_info(story, members, characters)

    async def _view(
        self,
        turn: Turn,
        names: dict[int, str] | None = None,
        alternatives: Sequence[Turn] | None = None,
    ) -> TurnView:
        """The turn's view, with its place among the slot's alternatives when it is pending
        (read here unless the caller already has them)."""
        known = await self._names(turn.story_id) if names is None else names
        if turn.state != "pending":
            alternatives = ()
        elif alternatives is None:
            alternatives = await self.storage.turns.list_alternatives(turn.story_id, turn.slot)
        return turn_view(turn, known, alternatives)

    # --- pending turns ---------------------------------------------------------------------

    async def _pending_current(self, story_id: int) -> list[Turn]:
        """The current alternative of every slot waiting for Keep, in story order."""
        return current_pending(await self.storage.turns.pending_for_story(story_id))

    async def _pending_view(self, story: Story) -> TurnView | None:
        """The alternative waiting for Keep (the one shown last), if any."""
        current = await self._pending_current(story.id)
        return await self._view(current[-1]) if current else None

    async def _keep_pending(
        self, story_id: int, by: int, current: Sequence[Turn] | None = None
    ) -> Turn | None:
        """Keep the current alternative of each pending slot (`current`, when the caller read
        them under the story's lock); returns the last one kept."""
        kept = None
        for turn in await self._pending_current(story_id) if current is None else current:
            kept = await self.storage.turns.accept(turn.id, by)
        return kept

    async def _refuse(
        self,
        checked: Checked,
        rules: GuildRules,
        source: ModerationSource,
        what: str,
        *,
        story_id: int | None = None,
        user_id: int | None = None,
    ) -> ModerationBlocked:
        """Log a block for the guild's moderators (without the text: it is not stored) and
        return the error that tells the writer why, which matters more than the log entry."""
        try:
            await self.storage.moderation.add(
                rules.guild_id,
                "block",
                source,
                story_id=story_id,
                user_id=user_id,
                verdict=checked.record(),
            )
        except StorageError:
            log.warning("could not log a moderation block in guild %s", rules.guild_id)
        return ModerationBlocked(checked.reasons, what)

    async def _observe(
        self, guild_id: int, user_id: int, text: str, genre: str, character_name: str | None
    ) -> None:
        """Tell the style memory about an accepted human turn, if the writer allows it. The turn
        is already stored, so a failing style memory is logged, never reported as a failed
        turn."""
        if self.style is None:
            return
        try:
            if await self._style_on(user_id, guild_id):
                await self.style.observe(user_id, text, genre, character_name)
        except Exception:
            log.exception("style memory failed to observe a turn by user %s", user_id)

    async def _style_on(self, user_id: int, guild_id: int) -> bool:
        """Whether style memory may learn from, and write like, this user here: it is opt-in
        (bot/story/privacy.py)."""
        return await self.storage.privacy.style_memory(user_id, guild_id)

    # --- round-robin -----------------------------------------------------------------------

    def _require_writer(
        self, story: Story, participants: Sequence[Participant], user_id: int
    ) -> Participant | None:
        """In round-robin, the caller if they hold the turn; raises otherwise. None in free mode."""
        if story.mode != "round_robin":
            return None
        if not any(p.user_id == user_id and p.active for p in participants):
            raise NotParticipant()
        writer = current_writer(story, participants)
        if writer is None or writer.user_id != user_id:
            raise NotYourTurn(writer.display_name if writer else "nobody")
        return writer

    async def _advance(
        self, story: Story, participants: Sequence[Participant], after_seat: int
    ) -> Story:
        """Give the turn to the next member after `after_seat`, with a fresh deadline.

        Conditional on the seat the story had when loaded, so a deadline firing and a posted
        turn cannot both move it; the loser of that race keeps the winner's result.
        """
        following = next_after(seats(story, participants), after_seat)
        if following is None:
            return story
        try:
            return await self.storage.stories.set_turn(
                story.id,
                following.seat,
                deadline(story, self.clock(), following.seat),
                expect_seat=story.current_seat,
            )
        except Conflict:
            moved = await self.storage.stories.get(story.id)
            return moved or story

    async def _give_turn_to(self, story: Story, user_id: int | None) -> Story:
        """Round-robin: hand the turn to `user_id` if they are still in the story."""
        if story.mode != "round_robin" or user_id is None:
            return story
        member = await self.storage.stories.get_participant(story.id, user_id)
        if member is None or not member.active:
            return story
        return await self.storage.stories.set_turn(
            story.id, member.seat, deadline(story, self.clock())
        )


def require_active(story: Story) -> None:
    if story.status == "paused":
        raise StoryPaused()
    if story.status == "ended":
        raise StoryEnded()


def require_owner(story: Story, user_id: int, is_moderator: bool, action: str = "do that") -> None:
    if user_id != story.owner_id and not is_moderator:
        raise PermissionDenied(f"Only the story's owner or a moderator can {action}.")
