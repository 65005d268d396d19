"""Errors a person caused or can act on; `str()` of each is the sentence they read.

Front ends catch `UserFacingError` and show it (an ephemeral reply on Discord, an `error:` line
in the terminal); anything else is a bug, logged with an apology. The engine translates storage
and generator failures into these, so no front end needs to know about SQLite or torch.
"""

from __future__ import annotations

from collections.abc import Sequence


class UserFacingError(Exception):
    """Root of the errors shown to users as they are."""

    default_message = "That could not be done."

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.default_message)

    def __str__(self) -> str:
        return str(self.args[0])


class NoActiveStory(UserFacingError):
    default_message = "There is no story here yet. Start one with /story start."


class StoryAlreadyRunning(UserFacingError):
    default_message = (
        "This channel already has a story that has not ended; end it with /story end first."
    )


class StoryNotActive(UserFacingError):
    """The story is paused or has ended, so it takes no new turns."""


class StoryPaused(StoryNotActive):
    default_message = "The story is paused; its owner or a moderator can /story resume it."


class StoryEnded(StoryNotActive):
    default_message = "That story has ended; start a new one with /story start."


class NotYourTurn(UserFacingError):
    """Round-robin: someone else holds the turn."""

    def __init__(self, current_name: str) -> None:
        super().__init__(f"It's {current_name}'s turn; wait for them to write theirs.")
        self.current_name = current_name


class NotParticipant(UserFacingError):
    default_message = "You have not joined this story; use /story join first."


class PermissionDenied(UserFacingError):
    default_message = "Only the story's owner or a moderator can do that."


class TurnInProgress(UserFacingError):
    default_message = "A turn is already being written for this story; wait for it, then try again."


class InvalidInput(UserFacingError):
    """Empty, too long, malformed or otherwise unusable input; the message says what to fix."""


class UnknownId(UserFacingError):
    """An id or name that refers to nothing."""


class UnknownStory(UnknownId):
    default_message = "There is no story with that id."


class UnknownTurn(UnknownId):
    default_message = "There is no turn with that id."


class UnknownCharacter(UnknownId):
    default_message = "There is no character with that name here."


class UnknownModerationEvent(UnknownId):
    default_message = "There is no moderation event with that id."


class DuplicateCharacter(UserFacingError):
    default_message = "You already have a character with that name here; pick another name."


class ModerationBlocked(UserFacingError):
    """Moderation refused the text; it was not stored, and the person may edit and resend."""

    def __init__(self, reasons: Sequence[str], what: str = "Your text") -> None:
        listed = "; ".join(reasons) or "it did not pass moderation"
        super().__init__(
            f"{what} was refused because it {listed}. Nothing was saved; edit it and send it again."
        )
        self.reasons = tuple(reasons)


class GenerationFailed(UserFacingError):
    """The model could not write a turn; nothing generated was stored, nothing written was lost."""

    default_message = (
        "The story generator could not write this turn; your text is safe. "
        "Try again, or ask a moderator to check the story's model."
    )


class GeneratorDown(GenerationFailed):
    default_message = (
        "The story generator is not reachable right now; your text is safe. Try again in a minute."
    )


class GeneratorBusy(GeneratorDown):
    """Every generator slot is taken; the person's cooldown stays, so they wait a little."""

    default_message = (
        "The story generator is busy with other stories; your text is safe. "
        "Try again in a few seconds."
    )


class GeneratorTooSlow(GenerationFailed):
    default_message = (
        "The story generator took too long to answer, so no turn was written; "
        "your text is safe. Try again in a minute."
    )


class DatabaseError(UserFacingError):
    """The story database refused the change; nothing of it was saved."""

    default_message = (
        "The story database could not complete the request; nothing was saved. "
        "The bot's operator can see why in its log."
    )


class DatabaseBusy(DatabaseError):
    default_message = "The story database is busy; nothing was saved. Try again in a moment."
