"""Editing a kept turn: its author, the story's owner or a moderator may change its text.

The new text is moderated as a written turn is; the turns after it stay as they are, and the
text it replaces is kept in the turn's history (`/story show` shows it), while the story, the
model's context and the export read the latest text. A turn the front end names from another
place, or another guild, is refused as a button of another story is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from bot.errors import InvalidInput, PermissionDenied, UnknownTurn
from bot.story.access import played_in
from bot.story.core import EngineCore, display_name
from bot.story.failures import user_errors
from bot.story.from_records import name_of
from bot.story.results import EditResult, EditView, TurnView
from bot.story.text import clean_text
from storage.models import Story, Turn, TurnEdit
from storage.repositories import Storage


class Editing(EngineCore):
    @user_errors
    async def editable_turn(
        self,
        turn_id: int,
        user_id: int,
        *,
        is_moderator: bool = False,
        guild_id: int | None = None,
        place_id: int | None = None,
    ) -> TurnView:
        """The turn as it reads now, if the caller may edit it (to fill an edit form);
        refused with the reason otherwise."""
        turn, _ = await self._editable_turn(turn_id, user_id, is_moderator, guild_id, place_id)
        return await self._view(turn)

    @user_errors
    async def edit_turn(
        self,
        turn_id: int,
        user_id: int,
        text: str,
        *,
        user_name: str | None = None,
        is_moderator: bool = False,
        guild_id: int | None = None,
        place_id: int | None = None,
    ) -> EditResult:
        """Replace a kept turn's text, moderated like a written turn; the old text goes to the
        turn's history."""
        turn, story = await self._editable_turn(turn_id, user_id, is_moderator, guild_id, place_id)
        cleaned = clean_text(text, self.options.max_turn_chars)
        rules = await self.guard.rules(story.guild_id)
        checked = self.guard.check(cleaned.text, rules)
        if checked.blocked:
            raise await self._refuse(
                checked, rules, "user_input", "Your edit", story_id=story.id, user_id=user_id
            )
        if checked.text == turn.text:
            raise InvalidInput(f"Turn #{turn.id} already reads so; nothing changed.")
        async with self.locks.hold(story.id):
            edited = await self.storage.edits.edit(turn.id, user_id, checked.text)
        notices = [cleaned.notice] if cleaned.notice else []
        if checked.redacted:
            notices.append(f"Some words were hidden: {'; '.join(checked.reasons)}.")
        names = await self._names(story.id)
        if user_name:
            names.setdefault(user_id, display_name(user_id, user_name))
        [view] = await with_histories(self.storage, [await self._view(edited, names)], names)
        return EditResult(
            story=await self._info(story),
            turn=view,
            previous=turn.text,
            notices=tuple(notices),
        )

    async def _editable_turn(
        self,
        turn_id: int,
        user_id: int,
        is_moderator: bool,
        guild_id: int | None,
        place_id: int | None,
    ) -> tuple[Turn, Story]:
        turn, story = await self._turn(turn_id)
        if guild_id is not None and story.guild_id != guild_id:
            raise UnknownTurn(f"There is no turn with id {turn_id}.")
        if place_id is not None and not played_in(story, place_id):
            raise InvalidInput(
                f"Turn #{turn_id} belongs to another story; edit it where that story is played."
            )
        if turn.state != "accepted":
            raise InvalidInput(
                f"Turn #{turn_id} is not kept (yet): keep it first, or reroll it instead."
            )
        if turn.hidden and not is_moderator:
            raise PermissionDenied(f"A moderator hid turn #{turn_id}; it cannot be edited.")
        author = turn.author_kind == "user" and turn.author_id == user_id
        if not (author or user_id == story.owner_id or is_moderator):
            raise PermissionDenied(
                f"Turn #{turn_id} is someone else's: only its author, the story's owner or a "
                "moderator can edit it."
            )
        return turn, story


async def with_histories(
    storage: Storage, views: Sequence[TurnView], names: Mapping[int, str]
) -> list[TurnView]:
    """The views with their edit histories, for readers who see how a turn changed."""
    found = await storage.edits.history([view.id for view in views])
    return [
        view if view.id not in found else with_history(view, found[view.id], names)
        for view in views
    ]


def with_history(view: TurnView, edits: Sequence[TurnEdit], names: Mapping[int, str]) -> TurnView:
    history = tuple(
        EditView(edit.previous_text, name_of(edit.editor_id, names), edit.edited_at)
        for edit in edits
    )
    return replace(view, history=history)
