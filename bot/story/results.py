"""What engine operations return: complete, plain data for a front end to render.

Discord renders these as embeds and buttons and the terminal as lines of text, so each result
carries everything either needs (ids for buttons, bylines, alternative positions, whose turn is
next and until when) without another query.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from storage.models import (
    AuthorKind,
    ModerationKind,
    ModerationLevel,
    ModerationSource,
    ModerationStatus,
    ReactionCount,
    ReactionEmoji,
    RerollPolicy,
    StoryMode,
    StoryStatus,
    TermLists,
    TimeoutAction,
    TurnKind,
    TurnState,
)

Notices = tuple[str, ...]
"""Sentences about what the engine changed or decided, shown under the main result."""


@dataclass(frozen=True, slots=True)
class ParticipantView:
    user_id: int
    name: str
    seat: int
    active: bool
    character_name: str | None = None


@dataclass(frozen=True, slots=True)
class TurnView:
    """One turn as readers see it.

    For a pending turn, `alt_index` (1-based) and `alt_count` place it among its slot's
    alternatives ("2/3"); an accepted turn is 1 of 1.
    """

    id: int
    story_id: int
    slot: int
    kind: TurnKind
    text: str
    author_kind: AuthorKind
    author_id: int | None
    author_name: str
    byline: str
    character_name: str | None
    model_id: str | None
    state: TurnState
    alt_index: int
    alt_count: int
    accepted_by: int | None
    accepted_by_name: str | None
    hidden: bool
    fallback: bool
    created_at: float
    history: tuple[EditView, ...] = ()
    """Its earlier texts, oldest first, where the reader asked for them (`/story show`)."""

    @property
    def pending(self) -> bool:
        return self.state == "pending"

    @property
    def edited(self) -> bool:
        return bool(self.history)


@dataclass(frozen=True, slots=True)
class EditView:
    """A turn's text before one edit, and who edited it when."""

    previous_text: str
    editor_name: str
    edited_at: float


@dataclass(frozen=True, slots=True)
class StoryInfo:
    """A story's settings and who is in it; `current_writer` is None outside round-robin."""

    id: int
    guild_id: int
    channel_id: int
    thread_id: int | None
    place_id: int
    title: str
    genre: str
    mood: str | None
    premise: str
    mode: StoryMode
    status: StoryStatus
    owner_id: int
    owner_name: str
    turn_timeout_s: int | None
    timeout_action: TimeoutAction
    reroll_policy: RerollPolicy
    style_matching: bool
    model_id: str | None
    participants: tuple[ParticipantView, ...]
    current_writer: ParticipantView | None
    turn_deadline: float | None
    created_at: float
    ended_at: float | None
    model_seat: bool = False
    """Whether the model takes turns of its own in the round-robin order."""
    model_voice: str = "narration"


@dataclass(frozen=True, slots=True)
class StoryLinks:
    """A story's branches: what it was forked from (a phrase), and the ids of its forks."""

    forked_from: str | None = None
    forks: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class ForkPlan:
    """The story a fork starts from and the kept turn it stops at (its id and slot)."""

    story_id: int
    title: str
    at_turn: int
    at_slot: int


@dataclass(frozen=True, slots=True)
class ForkResult:
    story: StoryInfo
    links: StoryLinks
    turns: int


@dataclass(frozen=True, slots=True)
class EditResult:
    """A turn after an edit; `previous` is the text it replaced (now in its history)."""

    story: StoryInfo
    turn: TurnView
    previous: str
    notices: Notices = ()


@dataclass(frozen=True, slots=True)
class StartCheck:
    """A new story's title and premise as moderation let them through (words may be hidden)."""

    title: str
    premise: str


@dataclass(frozen=True, slots=True)
class StartResult:
    story: StoryInfo
    opening: TurnView | None = None
    notices: Notices = ()


@dataclass(frozen=True, slots=True)
class MembershipResult:
    """After a join or a leave; `changed` is False when it was already so."""

    story: StoryInfo
    user_id: int
    user_name: str
    joined: bool
    changed: bool
    passed_turn: bool = False


@dataclass(frozen=True, slots=True)
class WriteResult:
    story: StoryInfo
    turn: TurnView
    auto_kept: TurnView | None = None
    """The pending alternative kept because this turn moved the story on."""
    notices: Notices = ()


@dataclass(frozen=True, slots=True)
class GenerationResult:
    """A model turn, stored pending: show it with Keep / Reroll / swipe buttons."""

    story: StoryInfo
    turn: TurnView
    auto_kept: TurnView | None = None
    fallback: bool = False
    notices: Notices = ()


@dataclass(frozen=True, slots=True)
class VoteTally:
    turn_id: int
    votes: int
    needed: int
    eligible: int
    voters: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.votes} of {self.eligible} votes, need {self.needed}"


@dataclass(frozen=True, slots=True)
class RerollResult:
    """A new alternative (`rerolled`), or a vote counted that has not reached a majority yet;
    `turn` is then the alternative still shown."""

    story: StoryInfo
    turn: TurnView
    rerolled: bool
    votes: VoteTally | None = None
    fallback: bool = False
    notices: Notices = ()


@dataclass(frozen=True, slots=True)
class SwipeResult:
    story: StoryInfo
    turn: TurnView
    moved: bool
    notices: Notices = ()


@dataclass(frozen=True, slots=True)
class KeepResult:
    story: StoryInfo
    turn: TurnView
    discarded: int


@dataclass(frozen=True, slots=True)
class UndoResult:
    story: StoryInfo
    removed: tuple[TurnView, ...]
    notices: Notices = ()


@dataclass(frozen=True, slots=True)
class StatusResult:
    story: StoryInfo
    previous: StoryStatus
    notices: Notices = ()


@dataclass(frozen=True, slots=True)
class SkipResult:
    story: StoryInfo
    skipped: ParticipantView | None


@dataclass(frozen=True, slots=True)
class StoryOverview:
    """A story at a glance: settings, members, whose turn, and what waits for Keep."""

    story: StoryInfo
    turns: int
    pending: TurnView | None


@dataclass(frozen=True, slots=True)
class StoryList:
    guild_id: int
    stories: tuple[StoryInfo, ...]


@dataclass(frozen=True, slots=True)
class StoryPage:
    """One page of the story in reading order; `pending` is the alternative waiting for Keep
    (shown after the last page's turns, marked as not yet kept)."""

    story: StoryInfo
    turns: tuple[TurnView, ...]
    page: int
    pages: int
    page_size: int
    total: int
    pending: TurnView | None
    links: StoryLinks | None = None
    reactions: dict[int, ReactionCount] = field(default_factory=dict)
    """Up/down counts of the page's turns that have any, by turn id."""
    reaction_emoji: ReactionEmoji = field(default_factory=ReactionEmoji)


@dataclass(frozen=True, slots=True)
class RecapLine:
    turn_id: int
    byline: str
    sentence: str
    pending: bool


@dataclass(frozen=True, slots=True)
class Recap:
    story: StoryInfo
    lines: tuple[RecapLine, ...]
    total_turns: int


@dataclass(frozen=True, slots=True)
class ExportResult:
    story: StoryInfo
    markdown: str
    filename: str
    format: str = "markdown"
    data: bytes = b""
    """The file's bytes in `format` (the Markdown's UTF-8 for Markdown)."""


@dataclass(frozen=True, slots=True)
class SettingsResult:
    story: StoryInfo
    changed: dict[str, Any] = field(default_factory=dict)


DeadlineAction = Literal["skipped", "ai_wrote", "model_wrote"]


@dataclass(frozen=True, slots=True)
class DeadlineEvent:
    """A round-robin turn that timed out, and what the engine did about it."""

    story: StoryInfo
    action: DeadlineAction
    missed: ParticipantView
    turn: TurnView | None
    message: str


@dataclass(frozen=True, slots=True)
class CharacterView:
    id: int
    guild_id: int
    owner_id: int
    name: str
    description: str
    personality: str
    speech_style: str
    backstory: str
    first_message: str
    tags: tuple[str, ...]
    imported: bool
    created_at: float
    updated_at: float


@dataclass(frozen=True, slots=True)
class CharacterResult:
    character: CharacterView
    notices: Notices = ()


@dataclass(frozen=True, slots=True)
class CharacterDeleted:
    character_id: int
    name: str


@dataclass(frozen=True, slots=True)
class CharacterList:
    guild_id: int
    characters: tuple[CharacterView, ...]


@dataclass(frozen=True, slots=True)
class CastResult:
    story: StoryInfo
    character: CharacterView
    added: bool
    """False when the call removed the character from the story."""
    plays_as: bool = False
    """True when the character became the caller's own character in this story."""


@dataclass(frozen=True, slots=True)
class CardFile:
    """An exported Character Card V2, ready to attach or save."""

    character: CharacterView
    filename: str
    media_type: str
    data: bytes


@dataclass(frozen=True, slots=True)
class ModEventView:
    id: int
    guild_id: int
    kind: ModerationKind
    source: ModerationSource
    story_id: int | None
    turn_id: int | None
    user_id: int | None
    excerpt: str
    reasons: tuple[str, ...]
    status: ModerationStatus
    resolution: str | None
    created_at: float


@dataclass(frozen=True, slots=True)
class ModQueue:
    guild_id: int
    events: tuple[ModEventView, ...]


@dataclass(frozen=True, slots=True)
class ReportResult:
    turn_id: int
    event: ModEventView | None
    """None when this person had already reported the turn."""


@dataclass(frozen=True, slots=True)
class GuildModeration:
    guild_id: int
    level: ModerationLevel
    blocked_terms: TermLists
    exempt_terms: TermLists
    saved: bool
    """False while the guild uses the defaults."""
    link_policy: str = "turns"
    """Where links are allowed: everywhere (allow), in story text only (turns), nowhere."""


@dataclass(frozen=True, slots=True)
class StyleView:
    user_id: int
    sentences: int
    has_vector: bool
    stats: dict[str, Any]
    preferences: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ForgetResult:
    user_id: int
    deleted: dict[str, int]
