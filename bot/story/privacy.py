"""A user's data: a copy of all of it, deleting it, and whether style memory learns from them.

Style memory is opt-in: it learns from a writer's turns, and uses what it learned, only when
they said yes (`privacy_style`) or, while they have said nothing, when their server turned it
on for everyone (`privacy_server_style`). Deleting keeps the stories readable for the other
players: the text of the writer's turns stays, under the byline "a former player" and without
their id; `KEPT` says what stays, and the front ends show it with every deletion.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from bot.errors import PermissionDenied
from bot.story.core import EngineCore
from bot.story.failures import user_errors
from storage.models import FORMER_USER_NAME, UserData

KEPT = (
    f"Kept, so the stories stay readable for the other players: the text of your turns (now "
    f'shown as by "{FORMER_USER_NAME}", without your id) and of the model turns you asked for, '
    "the names of your characters where a turn used them, the stories you started (with no "
    "owner now; server moderators can still end them), and the moderators' records of "
    "blocked or reported text (without your id)."
)
EXPORT_FORMAT = 1


@dataclass(frozen=True, slots=True)
class DataExport:
    """A user's data as a JSON document, and what it holds."""

    user_id: int
    filename: str
    json_text: str
    counts: dict[str, int]


@dataclass(frozen=True, slots=True)
class DeleteResult:
    user_id: int
    changed: dict[str, int]
    kept: str = KEPT


@dataclass(frozen=True, slots=True)
class StyleChoice:
    """Whether style memory learns from the user in this guild, and why."""

    user_id: int
    guild_id: int
    on: bool
    own_choice: bool | None
    """The user's own choice; None when the guild's default decides."""
    guild_default: bool


class Privacy(EngineCore):
    @user_errors
    async def privacy_export(self, user_id: int) -> DataExport:
        data = await self.storage.export_user(user_id)
        document = export_document(data)
        return DataExport(
            user_id=user_id,
            filename=f"talewright-data-{user_id}.json",
            json_text=json.dumps(document, ensure_ascii=False, indent=2),
            counts={
                "turns": len(data.turns),
                "characters": len(data.characters),
                "stories_joined": len(data.participations),
                "feedback": len(data.feedback),
                "moderation_events": len(data.moderation_events),
                "style_profile": int(data.style is not None),
            },
        )

    @user_errors
    async def privacy_delete(self, user_id: int) -> DeleteResult:
        return DeleteResult(user_id=user_id, changed=await self.storage.delete_user(user_id))

    @user_errors
    async def privacy_style(
        self, user_id: int, guild_id: int, on: bool | None = None, *, change: bool = False
    ) -> StyleChoice:
        """The user's style-memory choice; with `change`, set it to `on` first (None: follow
        the server's default). Saying no also deletes what style memory learned so far."""
        if change:
            await self.storage.privacy.set_user_choice(user_id, on)
            if on is False:
                await self.storage.styles.delete(user_id)
        return await self._style_choice(user_id, guild_id)

    @user_errors
    async def privacy_server_style(
        self, guild_id: int, user_id: int, on: bool, *, is_moderator: bool
    ) -> StyleChoice:
        """Set the server's default for members who made no choice of their own."""
        if not is_moderator:
            raise PermissionDenied("Only a server moderator can change the server's default.")
        await self.storage.privacy.set_guild_default(guild_id, on)
        return await self._style_choice(user_id, guild_id)

    async def _style_choice(self, user_id: int, guild_id: int) -> StyleChoice:
        own = await self.storage.privacy.user_choice(user_id)
        default = await self.storage.privacy.guild_default(guild_id)
        return StyleChoice(
            user_id=user_id,
            guild_id=guild_id,
            on=default if own is None else own,
            own_choice=own,
            guild_default=default,
        )


def export_document(data: UserData) -> dict[str, Any]:
    """The user's data as plain JSON values; card JSON is included as the text it was."""
    style = None
    if data.style is not None:
        style = asdict(data.style)
        style["vector"] = list(data.style.vector)
    return {
        "format": EXPORT_FORMAT,
        "user_id": data.user_id,
        "style_memory": data.style_memory,
        "turns": [asdict(turn) for turn in data.turns],
        "characters": [
            {**asdict(character), "tags": list(character.tags)} for character in data.characters
        ],
        "stories_joined": [asdict(participant) for participant in data.participations],
        "style_profile": style,
        "feedback": [asdict(feedback) for feedback in data.feedback],
        "moderation_events": [asdict(event) for event in data.moderation_events],
    }
