"""What the story engine may ask of storage, as Protocols.

The engine depends on these and never on a backend, so SQLite can be swapped for PostgreSQL
(several bot processes) without touching it. Conventions shared by every repository:

- `get` returns None for a missing record; a change to a missing record raises NotFound.
- Every method is one transaction: it either fully happens, committed before it returns, or
  raises a StorageError and changes nothing.
- Lists come newest first unless the method says otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from types import TracebackType
from typing import Any, Protocol, Self

from storage.models import (
    Character,
    ContextTurn,
    FeedbackExample,
    FeedbackKind,
    ForkLink,
    GuildSettings,
    InflightRequest,
    LoreDraft,
    LoreEntry,
    ModelInputs,
    ModerationEvent,
    ModerationKind,
    ModerationSource,
    Participant,
    ReactionCount,
    ReactionEmoji,
    Resolution,
    Story,
    StoryCharacter,
    StorySettings,
    StoryStatus,
    StyleProfile,
    Turn,
    TurnDraft,
    TurnEdit,
    TurnScene,
    UserData,
)

StatsUpdate = Mapping[str, Any] | Callable[[dict[str, Any], int], Mapping[str, Any]]
"""New style stats: a mapping whose keys replace the stored ones, or a function called inside
the transaction with (stored stats, stored count) that returns the stats to store, for updates
such as running averages and counters that must not lose a concurrent change."""


class GuildRepository(Protocol):
    async def get(self, guild_id: int) -> GuildSettings:
        """The guild's settings, or the defaults when it never saved any."""
        ...

    async def upsert(self, settings: GuildSettings) -> GuildSettings:
        """Store all of `settings`; returns them with `updated_at` set."""
        ...


class StoryRepository(Protocol):
    async def create(
        self,
        *,
        guild_id: int,
        channel_id: int,
        owner_id: int,
        settings: StorySettings,
        thread_id: int | None = None,
    ) -> Story:
        """A new active story; Conflict if its channel (or thread) has one that has not ended."""
        ...

    async def get(self, story_id: int) -> Story | None: ...

    async def get_active_for_channel(self, channel_id: int) -> Story | None:
        """The story (active or paused) played in this channel or thread, if any."""
        ...

    async def last_ended_for_channel(self, channel_id: int) -> Story | None:
        """The latest story that was played and ended in this channel or thread, if any."""
        ...

    async def get_active_with_participants(
        self, channel_id: int
    ) -> tuple[Story, list[Participant]] | None:
        """`get_active_for_channel` and everyone who ever joined that story (as
        `list_participants(include_left=True)`), read together: most actions need both."""
        ...

    async def list_for_guild(
        self,
        guild_id: int,
        *,
        statuses: Collection[StoryStatus] | None = None,
        limit: int = 25,
        offset: int = 0,
    ) -> list[Story]: ...

    async def list_for_channel(
        self,
        channel_id: int,
        *,
        statuses: Collection[StoryStatus] | None = None,
        limit: int = 25,
        offset: int = 0,
    ) -> list[Story]:
        """Stories played in this channel or in one of its threads."""
        ...

    async def update_settings(self, story: Story, settings: StorySettings) -> Story:
        """Store the settings that differ from `story`'s (the story as the caller read it);
        the others stay as they are now, so two people changing different settings at once
        both keep their change. NotFound if the story is gone."""
        ...

    async def set_status(self, story_id: int, status: StoryStatus) -> Story:
        """Pause, resume or end. Ending records `ended_at` and clears the turn deadline;
        reopening an ended story is a Conflict if its channel has another open story."""
        ...

    async def set_turn(
        self,
        story_id: int,
        current_seat: int,
        turn_deadline: float | None,
        *,
        expect_seat: int | None = None,
    ) -> Story:
        """Move the round-robin turn. With `expect_seat`, Conflict unless the story is still
        at that seat, so a deadline and a posted turn cannot both advance it."""
        ...

    async def set_model_seat(self, story_id: int, seated: bool) -> Story:
        """Give the model a seat of its own, after everyone's (kept when it has one), or take
        it away; members who join later sit after it."""
        ...

    async def list_due_deadlines(self, now: float, limit: int = 100) -> list[Story]:
        """Active stories whose turn deadline is at or before `now`, earliest first."""
        ...

    async def add_participant(
        self, story_id: int, user_id: int, display_name: str, *, character_id: int | None = None
    ) -> Participant:
        """Join the story; a member who left rejoins at the end of the seat order, and joining
        twice changes nothing but the display name (and character, when given)."""
        ...

    async def remove_participant(self, story_id: int, user_id: int) -> bool:
        """Mark the member as left (the row stays for bylines); False if not a member."""
        ...

    async def get_participant(self, story_id: int, user_id: int) -> Participant | None: ...

    async def list_participants(
        self, story_id: int, *, include_left: bool = False
    ) -> list[Participant]:
        """Members in seat order."""
        ...

    async def set_participant_character(
        self, story_id: int, user_id: int, character_id: int | None
    ) -> Participant: ...


class TurnRepository(Protocol):
    async def add(self, story_id: int, draft: TurnDraft) -> Turn:
        """A turn in the next slot: a user's turn is accepted at once, a model's is pending."""
        ...

    async def keep_and_add(
        self, story_id: int, draft: TurnDraft, keep: Sequence[int], by: int
    ) -> tuple[list[Turn], Turn]:
        """Accept the turns `keep` (as `accept` does, by `by`), then `add` the draft, in one
        transaction: all of it is written or none. Returns the kept turns and the new one."""
        ...

    async def stand_in(
        self,
        story_id: int,
        draft: TurnDraft,
        keep: Sequence[int],
        by: int,
        *,
        seat: int,
        turn_deadline: float | None,
        expect_seat: int,
    ) -> tuple[list[Turn], Turn, Story]:
        """A round-robin timeout's stand-in, in one transaction: accept `keep`, add the draft
        already accepted by `by` (the writer it stands in for), and pass the turn to `seat` with
        `turn_deadline`; Conflict, with nothing written, when the story is no longer active at
        `expect_seat`. A crash at any point leaves all of it or none."""
        ...

    async def count_with_param(self, story_id: int, param: str) -> int:
        """The story's accepted turns whose params hold `param` (the model's own turns)."""
        ...

    async def add_alternative(self, story_id: int, slot: int, draft: TurnDraft) -> Turn:
        """Another pending candidate for `slot` (a reroll or swipe)."""
        ...

    async def list_alternatives(self, story_id: int, slot: int) -> list[Turn]:
        """Every candidate of the slot, in the order they were made."""
        ...

    async def accept(self, turn_id: int, by: int) -> Turn:
        """Make this the slot's accepted turn; its other candidates become discarded."""
        ...

    async def discard(self, turn_id: int) -> Turn: ...

    async def get(self, turn_id: int) -> Turn | None: ...

    async def recent_accepted(self, story_id: int, limit: int = 50) -> list[Turn]:
        """The newest `limit` accepted, visible turns, in story order (oldest first)."""
        ...

    async def recent_context(self, story_id: int, limit: int = 50) -> list[ContextTurn]:
        """The same turns as `recent_accepted`, as the model reads them (the context query of
        every AI turn)."""
        ...

    async def page(
        self, story_id: int, offset: int = 0, limit: int = 20, *, include_hidden: bool = False
    ) -> list[Turn]:
        """Accepted turns in story order, for reading and export."""
        ...

    async def count_accepted(self, story_id: int, *, include_hidden: bool = False) -> int: ...

    async def next_slot(self, story_id: int) -> int: ...

    async def pending_for_story(self, story_id: int) -> list[Turn]:
        """Candidates still waiting for Keep, by slot then alternative."""
        ...

    async def undo_last(self, story_id: int) -> Turn | None:
        """Discard the last accepted, visible turn and return it; None when there is none."""
        ...

    async def set_hidden(self, turn_id: int, hidden: bool = True) -> Turn:
        """Hide or show a turn (a moderator's decision); the row is kept."""
        ...

    async def mark_shown(self, turn_id: int) -> Turn:
        """Record that a front end now shows this alternative: it becomes its slot's latest
        shown one (a new alternative already is)."""
        ...

    async def discard_pending(self, story_id: int) -> list[Turn]:
        """Discard every candidate still waiting for Keep; returns them by slot and alternative."""
        ...


class CharacterRepository(Protocol):
    async def create(
        self,
        guild_id: int,
        owner_id: int,
        name: str,
        *,
        description: str = "",
        personality: str = "",
        speech_style: str = "",
        backstory: str = "",
        first_message: str = "",
        tags: Sequence[str] = (),
        card_json: str | None = None,
        max_per_owner: int | None = None,
    ) -> Character:
        """Conflict if the owner already has a character of that name (ignoring case) here;
        LimitReached, with nothing written, if they already have `max_per_owner` here."""
        ...

    async def get(self, character_id: int) -> Character | None: ...

    async def get_by_name(
        self, guild_id: int, name: str, owner_id: int | None = None
    ) -> Character | None:
        """Match ignoring case; without an owner, the oldest character of that name."""
        ...

    async def list_for_guild(
        self, guild_id: int, *, limit: int = 25, offset: int = 0
    ) -> list[Character]:
        """By name."""
        ...

    async def list_for_owner(self, guild_id: int, owner_id: int) -> list[Character]:
        """By name."""
        ...

    async def search_names(
        self, guild_id: int, prefix: str, limit: int = 25, *, owner_id: int | None = None
    ) -> list[str]:
        """Names starting with `prefix` (ignoring case), sorted, for autocomplete."""
        ...

    async def update(self, character_id: int, **changes: Any) -> Character:
        """Change name, description, personality, speech_style, backstory, first_message,
        tags or card_json; a rename onto another of the owner's names is a Conflict."""
        ...

    async def delete(self, character_id: int) -> bool:
        """Delete the sheet and its story links; turns keep the character's name."""
        ...

    async def link(self, story_id: int, character_id: int, added_by: int) -> StoryCharacter:
        """Bring a character into a story; linking twice keeps the first link."""
        ...

    async def unlink(self, story_id: int, character_id: int) -> bool: ...

    async def list_for_story(self, story_id: int) -> list[Character]:
        """Characters in the story, in the order they were brought in."""
        ...


class StyleRepository(Protocol):
    async def get(self, user_id: int) -> StyleProfile | None: ...

    async def add_vectors(
        self,
        user_id: int,
        vectors: Sequence[Sequence[float]],
        stats_update: StatsUpdate | None = None,
    ) -> StyleProfile:
        """Fold sentence vectors into the running mean, which does not depend on the order
        the vectors arrive in; ValueError if their length differs from the stored vector's."""
        ...

    async def set_preferences(self, user_id: int, preferences: Mapping[str, Any]) -> StyleProfile:
        """Merge explicit preferences; a value of None removes that preference."""
        ...

    async def delete(self, user_id: int) -> int:
        """Delete the profile; returns the number of rows deleted."""
        ...


class FeedbackRepository(Protocol):
    async def add(self, turn_id: int, user_id: int, kind: FeedbackKind) -> bool:
        """Record the reaction; False when this user already gave it."""
        ...

    async def count(self, turn_id: int, kind: FeedbackKind) -> int: ...

    async def remove(self, turn_id: int, user_id: int, kind: FeedbackKind) -> bool:
        """Take the user's reaction back; False when they had not given it."""
        ...

    async def voters(
        self, turn_id: int, kind: FeedbackKind, *, since: float | None = None
    ) -> list[int]:
        """User ids, in the order they reacted; with `since`, only reactions at or after it."""
        ...

    async def renew(self, turn_id: int, user_id: int, kind: FeedbackKind) -> bool:
        """Record the reaction now, moving the time of an earlier one (a vote that must be
        recent to count); True when the user had not given it before."""
        ...


class ModerationRepository(Protocol):
    async def add(
        self,
        guild_id: int,
        kind: ModerationKind,
        source: ModerationSource,
        *,
        story_id: int | None = None,
        turn_id: int | None = None,
        user_id: int | None = None,
        excerpt: str = "",
        verdict: Mapping[str, Any] | None = None,
    ) -> ModerationEvent: ...

    async def get(self, event_id: int) -> ModerationEvent | None: ...

    async def list_open(self, guild_id: int, limit: int = 25) -> list[ModerationEvent]: ...

    async def list_recent(
        self,
        guild_id: int,
        kinds: Collection[ModerationKind] | None = None,
        limit: int = 25,
    ) -> list[ModerationEvent]: ...

    async def resolve(
        self, event_id: int, by: int, resolution: Resolution, note: str | None = None
    ) -> ModerationEvent:
        """Record who decided what, and when. `hidden` also hides the event's turn in the same
        transaction; deciding an event twice is a Conflict."""
        ...


class PrivacyRepository(Protocol):
    """Whether style memory may learn from a user: their own choice (shared by every guild, as
    their profile is), else their guild's default, which is off until the guild turns it on."""

    async def user_choice(self, user_id: int) -> bool | None:
        """The user's own choice; None when they never made one."""
        ...

    async def set_user_choice(self, user_id: int, style_memory: bool | None) -> None:
        """Record the choice; None removes it, so the guild's default applies again."""
        ...

    async def guild_default(self, guild_id: int) -> bool: ...

    async def set_guild_default(self, guild_id: int, style_memory: bool) -> None: ...

    async def style_memory(self, user_id: int, guild_id: int) -> bool:
        """Whether style memory is on for the user in that guild, all things considered."""
        ...


class InflightRepository(Protocol):
    """Model requests people wait on, kept so that a restart after a crash can tell them."""

    async def add(
        self, channel_id: int, application_id: int, token: str, guild_id: int | None = None
    ) -> int:
        """Record a request before the model is asked; returns its id."""
        ...

    async def remove(self, request_id: int) -> None:
        """The request was answered (or failed and was told so)."""
        ...

    async def list_all(self) -> list[InflightRequest]:
        """Every request still recorded, oldest first."""
        ...


class LoreRepository(Protocol):
    """Story memory and lorebook entries (a guild's book and each story's own)."""

    async def get_memory(self, story_id: int) -> str:
        """The story's memory note; empty when it has none."""
        ...

    async def set_memory(self, story_id: int, text: str) -> None:
        """Store the note; an empty text removes it."""
        ...

    async def create(
        self, guild_id: int, story_id: int | None, draft: LoreDraft, *, max_entries: int
    ) -> LoreEntry:
        """Add an entry to the book; Conflict when the book has one of that name (ignoring
        case), LimitReached when it already holds `max_entries`."""
        ...

    async def put_many(
        self, guild_id: int, story_id: int | None, drafts: Sequence[LoreDraft], *, max_entries: int
    ) -> tuple[int, int]:
        """Add the drafts in one transaction, replacing entries of the same name; returns
        (added, replaced). LimitReached (and nothing stored) when the book would hold more
        than `max_entries`."""
        ...

    async def get(self, entry_id: int) -> LoreEntry | None: ...

    async def get_by_name(self, guild_id: int, story_id: int | None, name: str) -> LoreEntry | None:
        """The entry of that name in that book (story_id None: the guild's)."""
        ...

    async def list_for(self, guild_id: int, story_id: int | None) -> list[LoreEntry]:
        """The guild's entries, then the story's (when given), each by name."""
        ...

    async def update(self, entry_id: int, **changes: Any) -> LoreEntry:
        """Change name, keys, text, constant or priority; Conflict on a duplicate name."""
        ...

    async def delete(self, entry_id: int) -> bool: ...


class EditRepository(Protocol):
    """Edits of kept turns: the latest text is the turn's, the earlier ones its history."""

    async def edit(self, turn_id: int, editor_id: int, text: str) -> Turn:
        """Replace the turn's text, keeping the text it had as one more entry of its history;
        NotFound for a missing turn."""
        ...

    async def history(self, turn_ids: Collection[int]) -> dict[int, list[TurnEdit]]:
        """The earlier texts of each turn that has any, oldest first."""
        ...


class ForkRepository(Protocol):
    """Branches of stories, linked both ways."""

    async def fork(
        self,
        parent_id: int,
        at_slot: int,
        *,
        channel_id: int,
        thread_id: int | None,
        owner_id: int,
        owner_name: str,
    ) -> Story:
        """A new active story in the given place, in one transaction: the parent's settings,
        its accepted visible turns up to `at_slot`, characters and own lore, owned by
        `owner_id` (its first member); Conflict when the place has an open story."""
        ...

    async def links(self, story_id: int) -> tuple[ForkLink | None, list[ForkLink]]:
        """Where the story was forked from (None for an original), and its own forks."""
        ...


class ReactionRepository(Protocol):
    """Reactions as a signal: the message that shows each turn, the guild's up/down emoji, and
    the up/down counts (kept as `feedback` rows of kinds 'up' and 'down')."""

    async def show_turn(self, message_id: int, channel_id: int, turn_id: int) -> None:
        """Record that the message now shows the turn (a rerolled message shows a new one)."""
        ...

    async def turn_for(self, message_id: int) -> int | None:
        """The turn the message shows; None for a message that shows no turn."""
        ...

    async def emoji(self, guild_id: int) -> ReactionEmoji:
        """The guild's up/down emoji; the defaults when it never set any."""
        ...

    async def set_emoji(self, guild_id: int, emoji: ReactionEmoji) -> ReactionEmoji:
        """Store the guild's emoji; ValueError unless up and down are two different ones."""
        ...

    async def counts(self, turn_ids: Sequence[int]) -> dict[int, ReactionCount]:
        """Up/down counts of the turns that have any (a turn without reactions is absent)."""
        ...

    async def examples(self, context_turns: int) -> list[FeedbackExample]:
        """Every visible turn with up or down reactions, with up to `context_turns` kept turns
        before it, in story and slot order, in one consistent snapshot."""
        ...


class CooldownRepository(Protocol):
    """Spacing between uses of something per key (a user's model requests), kept in the database
    so that every bot process on it sees the same last use: a person writing in two guilds run
    by two processes is spaced as in one."""

    async def claim(self, scope: str, key: int, spacing_s: float) -> tuple[float | None, float]:
        """Record a use of (`scope`, `key`) now, unless the last one was under `spacing_s`
        seconds ago. Returns (the recorded time, 0) or (None, the seconds left to wait)."""
        ...

    async def undo(self, scope: str, key: int, at: float) -> None:
        """Take back the use claimed `at` (the request it allowed failed), restoring the one
        before it; nothing when another use has been recorded since."""
        ...


class StoryLockProvider(Protocol):
    """One change at a time per story, across every process the backend lets share a database.

    Acquiring never waits: a story held elsewhere is reported busy at once, so a second writer
    is told a turn is being written instead of being handed one that no longer follows the
    story. A holder that dies (however it dies) releases what it held.
    """

    async def try_acquire(self, story_id: int) -> bool:
        """Hold the story and return True, or return False at once when it is held."""
        ...

    async def release(self, story_id: int) -> None:
        """Give back a story this object holds; never raises for a lost connection (the
        database dropped the lock with it)."""
        ...


class Storage(Protocol):
    """Everything the engine stores, behind one object that a backend provides.

    The repositories are read-only properties, so a backend may hold its own repository classes
    in plain attributes (a mutable protocol attribute would need the protocol type exactly)."""

    @property
    def guilds(self) -> GuildRepository: ...

    @property
    def stories(self) -> StoryRepository: ...

    @property
    def turns(self) -> TurnRepository: ...

    @property
    def characters(self) -> CharacterRepository: ...

    @property
    def styles(self) -> StyleRepository: ...

    @property
    def feedback(self) -> FeedbackRepository: ...

    @property
    def moderation(self) -> ModerationRepository: ...

    @property
    def privacy(self) -> PrivacyRepository: ...

    @property
    def inflight(self) -> InflightRepository: ...

    @property
    def edits(self) -> EditRepository: ...

    @property
    def forks(self) -> ForkRepository: ...

    @property
    def lore(self) -> LoreRepository: ...

    @property
    def reactions(self) -> ReactionRepository: ...

    @property
    def story_locks(self) -> StoryLockProvider: ...

    @property
    def cooldowns(self) -> CooldownRepository: ...

    async def model_inputs(self, story_id: int, user_id: int, context_turns: int) -> ModelInputs:
        """What a model turn reads of the story, for `user_id`, in one consistent snapshot:
        the pending alternatives, the latest `context_turns` accepted turns (as
        `turns.recent_context`), the story's characters and the user's style profile."""
        ...

    async def turn_scene(self, turn_id: int) -> TurnScene | None:
        """The turn, its slot's alternatives, its story and the story's participants, in one
        consistent snapshot; None when there is no such turn."""
        ...

    async def keep_turn(self, turn_id: int, by: int) -> Turn:
        """`turns.accept` the turn and record `by`'s "keep" feedback on it, in one
        transaction."""
        ...

    async def forget_user(self, user_id: int) -> dict[str, int]:
        """Delete the user's style profile and feedback in every guild, in one transaction;
        returns the number of rows deleted per table."""
        ...

    async def export_user(self, user_id: int) -> UserData:
        """Everything stored about the user, in every guild, in one consistent snapshot."""
        ...

    async def delete_user(self, user_id: int) -> dict[str, int]:
        """In one transaction: delete the user's characters, seats in stories, feedback, style
        profile and privacy choice; keep the text of their turns under the byline
        `FORMER_USER_NAME` without their id; replace their id where a row must name someone
        (stories they started, characters they brought in, moderation decisions) by
        `FORMER_USER_ID`, and remove it from moderation events. Returns rows changed per kind."""
        ...

    async def close(self) -> None: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """`close`, so that `async with await open_storage_url(...)` closes what it opened."""
        ...
