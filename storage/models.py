"""The records the story engine reads and writes, as plain dataclasses.

Nothing here knows about SQL or Discord, so the engine, the front ends and any storage backend
share one vocabulary. Discord ids (guild, channel, user) are 64-bit ints, our own ids are
database integers, and times are float unix seconds (UTC). Records are frozen: a change goes
through a repository method, which returns the stored result.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal, NamedTuple, get_args

ModerationLevel = Literal["family", "teen", "mature"]
LinkPolicy = Literal["allow", "turns", "block"]
"""Where a guild allows links: everywhere, only in story text (not titles or names), nowhere."""
StoryMode = Literal["free", "round_robin"]
TimeoutAction = Literal["skip", "ai"]
RerollPolicy = Literal["owner", "vote"]
StoryStatus = Literal["active", "paused", "ended"]
ModelVoice = Literal["narration", "characters", "mixed"]
"""What the model writes in its own round-robin seat: narration; a character in play that no
member plays (narration when there is none); or those, with every fifth of its turns a twist."""
AuthorKind = Literal["user", "model"]
TurnKind = Literal["narration", "dialogue", "twist", "poem", "opening"]
TurnState = Literal["pending", "accepted", "discarded"]
FeedbackKind = Literal["keep", "reroll_vote", "up", "down", "report"]
ModerationKind = Literal["report", "block", "redact", "fallback"]
ModerationSource = Literal["user_input", "character", "generated", "report"]
ModerationStatus = Literal["open", "resolved", "dismissed"]
Resolution = Literal["hidden", "dismissed"]

TERMINAL_GUILD_ID = 0
"""The guild id of stories played in the terminal, which has no Discord guild."""

FORMER_USER_ID = 0
"""Stands for a user who deleted their data where a column needs some user id (the owner of a
story they started, who added a character to a story, who decided a moderation event)."""

FORMER_USER_NAME = "a former player"
"""The byline of turns whose author deleted their data."""

ANY_CATEGORY = "*"
"""Key of a guild's term lists that applies to every moderation category."""

DEFAULT_MODERATION_LEVEL: ModerationLevel = "teen"
DEFAULT_COOLDOWN_SECONDS = 5.0
DEFAULT_LINK_POLICY: LinkPolicy = "turns"

TermLists = dict[str, list[str]]
"""Moderation category -> terms; the key `ANY_CATEGORY` applies to all categories."""


def require_choice(name: str, value: object, literal: Any) -> str:
    """Return `value` if it is one of the Literal's values, else raise a ValueError naming them.

    Storage checks these before writing so a typo fails with a readable message instead of a
    database constraint error.
    """
    choices = get_args(literal)
    if value not in choices:
        allowed = ", ".join(repr(choice) for choice in choices)
        raise ValueError(f"{name} must be one of {allowed}, not {value!r}")
    return str(value)


@dataclass(frozen=True, slots=True)
class GuildSettings:
    """Per-guild options; `updated_at` is 0.0 for a guild that never saved any."""

    guild_id: int
    moderation_level: ModerationLevel = DEFAULT_MODERATION_LEVEL
    blocked_terms: TermLists = field(default_factory=dict)
    exempt_terms: TermLists = field(default_factory=dict)
    plain_message_mode: bool = False
    cooldown_seconds: float = DEFAULT_COOLDOWN_SECONDS
    updated_at: float = 0.0
    link_policy: LinkPolicy = DEFAULT_LINK_POLICY


@dataclass(frozen=True, slots=True)
class StorySettings:
    """What a story is started with and what its owner may change later, as one value: the
    front ends build it, the engine checks it (`dataclasses.replace` for a change) and the
    repositories store it whole. `check` holds only what the database needs; the rules a
    person is told about (known genres and moods, timeout bounds, clean titles) are the
    engine's."""

    title: str
    genre: str
    premise: str = ""
    mood: str | None = None
    mode: StoryMode = "free"
    turn_timeout_s: int | None = None
    """Round-robin: seconds each writer has; None for no clock."""
    timeout_action: TimeoutAction = "skip"
    reroll_policy: RerollPolicy = "owner"
    style_matching: bool = False
    model_id: str | None = None
    """The checkpoint the story asks for; None for the generator's default."""
    model_voice: ModelVoice = "narration"

    def check(self) -> None:
        """Raise a ValueError naming the first setting the database would refuse."""
        require_choice("mode", self.mode, StoryMode)
        require_choice("timeout_action", self.timeout_action, TimeoutAction)
        require_choice("reroll_policy", self.reroll_policy, RerollPolicy)
        require_choice("model_voice", self.model_voice, ModelVoice)
        if self.turn_timeout_s is not None and self.turn_timeout_s <= 0:
            raise ValueError(f"turn_timeout_s must be positive or None, not {self.turn_timeout_s}")

    def columns(self) -> dict[str, Any]:
        """Column name -> value, once checked."""
        self.check()
        return {**asdict(self), "style_matching": bool(self.style_matching)}

    def changes_from(self, before: StorySettings) -> dict[str, Any]:
        """The columns whose values differ from `before`'s, once checked."""
        old = asdict(before)
        return {name: value for name, value in self.columns().items() if old[name] != value}


@dataclass(frozen=True, slots=True)
class Story:
    """One story in one place.

    `channel_id` is where the story is played; when it is played in a thread, `thread_id` is
    that thread, and the story is found by the thread's id.
    """

    id: int
    guild_id: int
    channel_id: int
    thread_id: int | None
    owner_id: int
    title: str
    genre: str
    mood: str | None
    premise: str
    mode: StoryMode
    turn_timeout_s: int | None
    timeout_action: TimeoutAction
    reroll_policy: RerollPolicy
    style_matching: bool
    model_id: str | None
    status: StoryStatus
    current_seat: int
    turn_deadline: float | None
    created_at: float
    updated_at: float
    ended_at: float | None
    model_seat: int | None = None
    """The model's seat in the round-robin order (its own turns), None when it has none."""
    model_voice: ModelVoice = "narration"

    @property
    def place_id(self) -> int:
        """The id that messages and commands for this story arrive from."""
        return self.thread_id if self.thread_id is not None else self.channel_id

    @property
    def settings(self) -> StorySettings:
        """The story's settings as one value, for `dataclasses.replace`."""
        return StorySettings(
            **{item.name: getattr(self, item.name) for item in fields(StorySettings)}
        )


@dataclass(frozen=True, slots=True)
class Participant:
    """A member of a story; a row that has `left_at` set is kept for bylines."""

    story_id: int
    user_id: int
    display_name: str
    seat: int
    joined_at: float
    left_at: float | None
    character_id: int | None

    @property
    def active(self) -> bool:
        return self.left_at is None


class ContextTurn(NamedTuple):
    """What a model reads of a turn, and no more: every AI turn reads the latest 50, and a full
    `Turn` (two JSON columns, twenty fields) costs ten times as much to build."""

    slot: int
    author_kind: AuthorKind
    author_name: str
    character_name: str | None
    kind: TurnKind
    text: str

    @classmethod
    def of(cls, turn: Turn) -> ContextTurn:
        return cls(
            turn.slot,
            turn.author_kind,
            turn.author_name,
            turn.character_name,
            turn.kind,
            turn.text,
        )


@dataclass(frozen=True, slots=True)
class Turn:
    """One piece of text in a story, or one candidate for it.

    Alternatives (rerolls, swipes) of a position share `slot` and differ in `alt_index`; at most
    one turn per slot is accepted. `author_id` is the user who wrote it, or who asked the model.
    Of a slot's alternatives, the one with the highest `shown_seq` was made or shown last.
    """

    id: int
    story_id: int
    slot: int
    alt_index: int
    author_kind: AuthorKind
    author_id: int | None
    author_name: str
    accepted_by: int | None
    character_id: int | None
    character_name: str | None
    kind: TurnKind
    text: str
    model_id: str | None
    params: dict[str, Any]
    score: float | None
    moderation: dict[str, Any] | None
    state: TurnState
    hidden: bool
    created_at: float
    shown_seq: int = 0


@dataclass(frozen=True, slots=True)
class TurnDraft:
    """The content of a turn about to be stored; storage assigns its slot, state and id."""

    author_kind: AuthorKind
    text: str
    author_id: int | None = None
    author_name: str = ""
    kind: TurnKind = "narration"
    character_id: int | None = None
    character_name: str | None = None
    model_id: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    score: float | None = None
    moderation: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Character:
    """A character sheet owned by one user in one guild.

    `card_json` keeps the imported Character Card V2 text verbatim so fields this project does
    not use survive an import/export round trip.
    """

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
    card_json: str | None
    created_at: float
    updated_at: float


@dataclass(frozen=True, slots=True)
class StoryCharacter:
    """A character brought into a story, and by whom."""

    story_id: int
    character_id: int
    added_by: int
    added_at: float


@dataclass(frozen=True, slots=True)
class StyleProfile:
    """A user's writing style, shared across guilds.

    `vector` is the mean of `count` sentence vectors; `stats` is free-form (sentence length,
    dialogue share, genre counts, ...) and `preferences` holds values set with `/style set`.
    """

    user_id: int
    vector: tuple[float, ...]
    count: int
    stats: dict[str, Any]
    preferences: dict[str, Any]
    updated_at: float


@dataclass(frozen=True, slots=True)
class InflightRequest:
    """A model request someone waits on: where, the interaction that can still answer them
    (its token lasts 15 minutes), and when it began."""

    id: int
    channel_id: int
    application_id: int
    token: str
    started_at: float
    guild_id: int | None = None
    """None outside a guild (and for requests recorded before guilds were)."""


@dataclass(frozen=True, slots=True)
class TurnScene:
    """A turn with what every choice about it needs, read together in one snapshot."""

    turn: Turn
    alternatives: list[Turn]
    """Every alternative of the turn's slot, the turn among them, in the order they were made."""
    story: Story
    participants: list[Participant]
    """Everyone who ever joined the story, in seat order."""


@dataclass(frozen=True, slots=True)
class ModelInputs:
    """What a model turn reads of a story, read together in one snapshot."""

    pending: list[Turn]
    """Alternatives waiting for Keep, by slot then alternative (hidden ones included)."""
    context: list[ContextTurn]
    """The latest accepted, visible turns, oldest first."""
    characters: list[Character]
    style: StyleProfile | None
    """The requester's profile; None when they have none."""


@dataclass(frozen=True, slots=True)
class Feedback:
    """One user's reaction to one turn; a user gives each kind at most once per turn."""

    id: int
    turn_id: int
    user_id: int
    kind: FeedbackKind
    created_at: float


DEFAULT_UP_EMOJI = "\N{THUMBS UP SIGN}"
DEFAULT_DOWN_EMOJI = "\N{THUMBS DOWN SIGN}"


@dataclass(frozen=True, slots=True)
class ReactionEmoji:
    """The emoji a guild counts as a turn's up and down reactions (unicode, or `name:id` for a
    custom emoji, as Discord names them)."""

    up: str = DEFAULT_UP_EMOJI
    down: str = DEFAULT_DOWN_EMOJI


class ReactionCount(NamedTuple):
    up: int
    down: int


@dataclass(frozen=True, slots=True)
class FeedbackExample:
    """One turn people reacted to, for training: the story's kept turns before it (oldest
    first), its text and its up/down counts."""

    story_id: int
    turn_id: int
    genre: str
    context: list[str]
    text: str
    author_kind: AuthorKind
    state: TurnState
    up: int
    down: int


@dataclass(frozen=True, slots=True)
class ModerationEvent:
    """Something moderation did or was asked to look at, with the decision taken on it."""

    id: int
    guild_id: int
    story_id: int | None
    turn_id: int | None
    user_id: int | None
    kind: ModerationKind
    source: ModerationSource
    excerpt: str
    verdict: dict[str, Any]
    status: ModerationStatus
    resolution: Resolution | None
    resolved_by: int | None
    resolved_at: float | None
    note: str | None
    created_at: float


@dataclass(frozen=True, slots=True)
class UserData:
    """Everything stored about one user, for a copy they can take away."""

    user_id: int
    turns: list[Turn]
    """Turns they wrote or asked the model for, in every guild, oldest first."""
    characters: list[Character]
    participations: list[Participant]
    style: StyleProfile | None
    style_memory: bool | None
    """Their own choice about style memory; None when they never made one."""
    feedback: list[Feedback]
    moderation_events: list[ModerationEvent]
    """Events that name them (as the writer who was blocked, or as a reporter)."""


@dataclass(frozen=True, slots=True)
class TurnEdit:
    """One earlier text of a turn, kept when someone edited it: the history `/story show`
    shows, oldest first."""

    id: int
    turn_id: int
    editor_id: int
    previous_text: str
    edited_at: float


@dataclass(frozen=True, slots=True)
class LoreEntry:
    """A lorebook entry of a guild (`story_id` None) or of one story: `text` reaches the model
    when one of `keys` appears in the recent turns, or always when `constant`."""

    id: int
    guild_id: int
    story_id: int | None
    name: str
    keys: tuple[str, ...]
    text: str
    constant: bool
    priority: int
    """Higher goes into the context first (SillyTavern's insertion order)."""
    created_at: float
    updated_at: float


@dataclass(frozen=True, slots=True)
class LoreDraft:
    """A lore entry to store (the fields a person or an imported lorebook gives)."""

    name: str
    keys: tuple[str, ...]
    text: str
    constant: bool = False
    priority: int = 100


@dataclass(frozen=True, slots=True)
class ForkLink:
    """A story forked from another: it began as `parent_id` read up to `at_slot`. The parent
    is None once it was deleted."""

    story_id: int
    parent_id: int | None
    at_slot: int
    created_by: int
    created_at: float
