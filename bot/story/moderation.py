"""Moderators' side of moderation: reports, the queue, decisions and a guild's rules.

Anyone can report a turn (once); blocks of user input and fallbacks of generated text are
logged by the engine as they happen. Moderators (a flag the front end passes: Manage Messages
on Discord, the local user in the terminal) see the open events and hide the turn or dismiss
the event, and set the guild's level and word lists. Terms blocked without a category apply to
every category and are blocked at every level.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import cast

from bot.errors import InvalidInput, PermissionDenied, UnknownModerationEvent, UnknownTurn
from bot.story.core import EngineCore
from bot.story.failures import user_errors
from bot.story.from_records import event_view
from bot.story.guard import rules_from_settings
from bot.story.results import GuildModeration, ModEventView, ModQueue, ReportResult
from bot.story.text import optional_text
from generators.moderation import CATEGORIES
from storage.errors import Conflict
from storage.models import (
    ANY_CATEGORY,
    GuildSettings,
    LinkPolicy,
    ModerationLevel,
    Resolution,
    TermLists,
)

LEVELS = ("family", "teen", "mature")
LINK_POLICIES = ("allow", "turns", "block")
RESOLUTIONS: dict[str, Resolution] = {"hide": "hidden", "dismiss": "dismissed"}


class ModerationHooks(EngineCore):
    @user_errors
    async def report_turn(
        self,
        turn_id: int,
        reporter_id: int,
        reason: str | None = None,
        *,
        guild_id: int | None = None,
    ) -> ReportResult:
        """Flag a turn (of `guild_id`, when given) for the guild's moderators; reporting it
        twice changes nothing."""
        turn, story = await self._turn(turn_id)
        if guild_id is not None and story.guild_id != guild_id:
            raise UnknownTurn(f"There is no turn with id {turn_id} here.")
        why = optional_text(reason, 300, "The reason", single_line=True).text
        if not await self.storage.feedback.add(turn.id, reporter_id, "report"):
            return ReportResult(turn_id=turn.id, event=None)
        event = await self.storage.moderation.add(
            story.guild_id,
            "report",
            "report",
            story_id=story.id,
            turn_id=turn.id,
            user_id=reporter_id,
            excerpt=turn.text[:300],
            verdict={"reasons": [why or "reported by a reader"]},
        )
        return ReportResult(turn_id=turn.id, event=event_view(event))

    @user_errors
    async def mod_queue(self, guild_id: int, *, is_moderator: bool, limit: int = 25) -> ModQueue:
        """Open events, newest first."""
        _require_moderator(is_moderator)
        events = await self.storage.moderation.list_open(guild_id, limit)
        return ModQueue(guild_id=guild_id, events=tuple(event_view(e) for e in events))

    @user_errors
    async def mod_resolve(
        self,
        event_id: int,
        by: int,
        action: str,
        *,
        is_moderator: bool,
        guild_id: int | None = None,
        note: str | None = None,
    ) -> ModEventView:
        """`hide` the event's turn (kept, but no longer shown or exported) or `dismiss` it."""
        _require_moderator(is_moderator)
        if action not in RESOLUTIONS:
            raise InvalidInput("Resolve an event with hide or dismiss.")
        event = await self.storage.moderation.get(event_id)
        if event is None or (guild_id is not None and event.guild_id != guild_id):
            raise UnknownModerationEvent(f"There is no moderation event {event_id} here.")
        if action == "hide" and event.turn_id is None:
            raise InvalidInput("That event has no turn to hide; dismiss it instead.")
        text = optional_text(note, 300, "The note", single_line=True).text or None
        try:
            resolved = await self.storage.moderation.resolve(
                event.id, by, RESOLUTIONS[action], text
            )
        except Conflict as exc:
            raise InvalidInput(str(exc)) from exc
        return event_view(resolved)

    @user_errors
    async def mod_settings(self, guild_id: int) -> GuildModeration:
        return self._moderation_view(await self._guild(guild_id))

    @user_errors
    async def mod_settings_set(
        self,
        guild_id: int,
        user_id: int,
        *,
        is_moderator: bool,
        level: str | None = None,
        block: Sequence[str] = (),
        unblock: Sequence[str] = (),
        exempt: Sequence[str] = (),
        unexempt: Sequence[str] = (),
        category: str = ANY_CATEGORY,
        links: str | None = None,
    ) -> GuildModeration:
        """Change the guild's level and word lists; `category` files blocked terms under one
        moderation category (default: every category)."""
        _require_moderator(is_moderator)
        if level is not None and level not in LEVELS:
            raise InvalidInput(f"Unknown moderation level {level!r}; use {', '.join(LEVELS)}.")
        if links is not None and links not in LINK_POLICIES:
            raise InvalidInput(f"Unknown link policy {links!r}; use {', '.join(LINK_POLICIES)}.")
        if category != ANY_CATEGORY and category not in CATEGORIES:
            raise InvalidInput(
                f"Unknown moderation category {category!r}; use {', '.join(CATEGORIES)}."
            )
        current = await self._guild(guild_id)
        updated = replace(
            current,
            moderation_level=cast(ModerationLevel, level or current.moderation_level),
            blocked_terms=_edit(current.blocked_terms, category, block, unblock),
            exempt_terms=_edit(current.exempt_terms, ANY_CATEGORY, exempt, unexempt),
            link_policy=cast(LinkPolicy, links or current.link_policy),
        )
        self.guard.validate(rules_from_settings(updated, updated.moderation_level))
        saved = await self.storage.guilds.upsert(updated)
        self.guard.forget(guild_id)
        return self._moderation_view(saved)

    async def _guild(self, guild_id: int) -> GuildSettings:
        """The guild's settings; a guild that never saved any has the configured level."""
        settings = await self.storage.guilds.get(guild_id)
        if settings.updated_at:
            return settings
        return replace(settings, moderation_level=self.options.default_moderation_level)

    @staticmethod
    def _moderation_view(settings: GuildSettings) -> GuildModeration:
        return GuildModeration(
            guild_id=settings.guild_id,
            level=settings.moderation_level,
            blocked_terms=settings.blocked_terms,
            exempt_terms=settings.exempt_terms,
            saved=bool(settings.updated_at),
            link_policy=settings.link_policy,
        )


def _require_moderator(is_moderator: bool) -> None:
    if not is_moderator:
        raise PermissionDenied("Only moderators can do that.")


def _edit(lists: TermLists, category: str, add: Iterable[str], remove: Iterable[str]) -> TermLists:
    """The lists with terms added to and removed from `category` (removal from every one)."""
    gone = {_term(term) for term in remove}
    edited = {key: [t for t in terms if _term(t) not in gone] for key, terms in lists.items()}
    for term in map(_term, add):
        if term and term not in edited.setdefault(category, []):
            edited[category].append(term)
    return {key: terms for key, terms in edited.items() if terms}


def _term(term: str) -> str:
    return " ".join(term.casefold().split())
