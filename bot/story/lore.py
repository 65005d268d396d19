"""Story memory and lorebooks: show and set the memory, add/edit/remove/show/list lore entries,
import and export SillyTavern World Info.

A story's memory and its own book belong to the story's owner (or a moderator); the server's
book, read by every story of the guild, to its moderators. Everything stored passes the
guild's moderation like any text people write; an imported lorebook is bounded and moderated
string by string like a character card (bot.story.worldinfo, bot.story.card_checks). What the
model reads of it is chosen per request by bot.story.lore_select.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from bot.errors import InvalidInput, PermissionDenied, UnknownId
from bot.story.card_checks import check_card_texts
from bot.story.core import current_pending, require_owner
from bot.story.failures import user_errors
from bot.story.generation import Generation
from bot.story.lore_results import (
    LoreFile,
    LoreImported,
    LoreListing,
    LoreRemoved,
    LoreResult,
    LoreScope,
    LoreStatus,
    LoreView,
    MemoryResult,
)
from bot.story.lore_select import LoreItem, read_lore
from bot.story.text import clean_text, optional_text
from bot.story.worldinfo import (
    KEY_CHARS,
    MAX_BOOK_ENTRIES,
    MAX_KEYS,
    NAME_CHARS,
    PRIORITY_RANGE,
    read_world_info,
    world_info_bytes,
)
from generators.schemas import MAX_LORE_CHARS, MAX_MEMORY_CHARS
from storage.errors import Conflict, LimitReached
from storage.models import LoreDraft, LoreEntry, Story

SCOPES: tuple[LoreScope, ...] = ("story", "server")
EDITABLE = frozenset({"name", "keys", "text", "constant", "priority"})


class Lore(Generation):
    # --- memory -----------------------------------------------------------------------------

    @user_errors
    async def memory_show(self, channel_id: int) -> MemoryResult:
        story = await self._story_here(channel_id)
        return MemoryResult(story.id, await self.storage.lore.get_memory(story.id))

    @user_errors
    async def memory_set(
        self, channel_id: int, user_id: int, text: str, *, is_moderator: bool = False
    ) -> MemoryResult:
        """Replace the story's memory (blank clears it): the story's owner or a moderator."""
        story = await self._story_here(channel_id)
        require_owner(story, user_id, is_moderator, "change the story's memory")
        cleaned = optional_text(text, MAX_MEMORY_CHARS, "The story's memory")
        notices = [cleaned.notice] if cleaned.notice else []
        memory = cleaned.text
        if memory:
            rules = await self.guard.rules(story.guild_id)
            checked = self.guard.check(memory, rules)
            if checked.blocked:
                raise await self._refuse(
                    checked,
                    rules,
                    "user_input",
                    "The story's memory",
                    story_id=story.id,
                    user_id=user_id,
                )
            if checked.redacted:
                memory = checked.text
                notices.append("Some words in the memory were hidden.")
        await self.storage.lore.set_memory(story.id, memory)
        return MemoryResult(story.id, memory, tuple(notices))

    # --- entries ----------------------------------------------------------------------------

    @user_errors
    async def lore_add(
        self,
        guild_id: int,
        channel_id: int,
        user_id: int,
        name: str,
        keys: str | Sequence[str],
        text: str,
        *,
        constant: bool = False,
        priority: int | str = 100,
        scope: LoreScope = "story",
        is_moderator: bool = False,
    ) -> LoreResult:
        """Add an entry to the story's book (or the server's, for moderators)."""
        story_id = await self._book(guild_id, channel_id, user_id, scope, is_moderator)
        values = {"name": name, "keys": keys, "text": text, "priority": priority}
        fields, notices = await self._checked_entry(guild_id, user_id, values)
        draft = LoreDraft(constant=constant, **fields)
        try:
            entry = await self.storage.lore.create(
                guild_id, story_id, draft, max_entries=MAX_BOOK_ENTRIES
            )
        except LimitReached as exc:
            raise InvalidInput(
                f"That lorebook already holds {MAX_BOOK_ENTRIES} entries; remove one first."
            ) from exc
        except Conflict as exc:
            raise InvalidInput(str(exc)) from exc
        return LoreResult(lore_view(entry), tuple(notices))

    @user_errors
    async def lore_edit(
        self,
        guild_id: int,
        channel_id: int,
        user_id: int,
        name: str,
        /,
        *,
        scope: LoreScope | None = None,
        is_moderator: bool = False,
        **changes: Any,
    ) -> LoreResult:
        """Change fields of an entry; `name` renames it."""
        unknown = sorted(set(changes) - EDITABLE)
        if unknown:
            raise InvalidInput(
                f"Unknown lore field {', '.join(unknown)}; use {', '.join(sorted(EDITABLE))}."
            )
        if not changes:
            raise InvalidInput('Say what to change, e.g. text:"The door hums at high tide."')
        entry = await self._entry(guild_id, channel_id, name, scope)
        await self._book(guild_id, channel_id, user_id, _scope_of(entry), is_moderator)
        fields, notices = await self._checked_entry(
            guild_id, user_id, {k: v for k, v in changes.items() if k != "constant"}
        )
        if "constant" in changes:
            fields["constant"] = bool(changes["constant"])
        try:
            updated = await self.storage.lore.update(entry.id, **fields)
        except Conflict as exc:
            raise InvalidInput(str(exc)) from exc
        return LoreResult(lore_view(updated), tuple(notices))

    @user_errors
    async def lore_remove(
        self,
        guild_id: int,
        channel_id: int,
        user_id: int,
        name: str,
        *,
        scope: LoreScope | None = None,
        is_moderator: bool = False,
    ) -> LoreRemoved:
        entry = await self._entry(guild_id, channel_id, name, scope)
        await self._book(guild_id, channel_id, user_id, _scope_of(entry), is_moderator)
        await self.storage.lore.delete(entry.id)
        return LoreRemoved(entry.name, _scope_of(entry))

    @user_errors
    async def lore_show(
        self, guild_id: int, channel_id: int, name: str, *, scope: LoreScope | None = None
    ) -> LoreResult:
        return LoreResult(lore_view(await self._entry(guild_id, channel_id, name, scope)))

    @user_errors
    async def lore_list(self, guild_id: int, channel_id: int) -> LoreListing:
        """The server's book and the story's here, each entry with where it stands for the
        next model turn: in the context, waiting for one of its keys, or over the budget."""
        story = await self._story_or_none(guild_id, channel_id)
        if story is None:
            entries = await self.storage.lore.list_for(guild_id, None)
            return LoreListing(None, "", tuple(lore_view(entry) for entry in entries))
        inputs = await self._model_inputs(story.id, story.owner_id)
        turns = self._context_turns(inputs, current_pending(inputs.pending), None)
        memory, picked = await read_lore(self.storage, story, turns, inputs.characters, None)
        status: dict[tuple[str, str], LoreStatus] = {}
        labelled: tuple[tuple[Sequence[LoreItem], LoreStatus], ...] = (
            (picked.chosen, "in context"),
            (picked.left_out, "left out: over the budget"),
            (picked.waiting, "waiting for a key"),
        )
        for items, label in labelled:
            for item in items:
                status[_item_key(item)] = label
        entries = await self.storage.lore.list_for(guild_id, story.id)
        views = [
            lore_view(entry, status.get((_source(entry), entry.name), "waiting for a key"))
            for entry in entries
        ]
        return LoreListing(
            story.id,
            memory,
            tuple(views),
            characters_in_context=_cast(picked.chosen),
            characters_left_out=_cast(picked.left_out),
        )

    @user_errors
    async def lore_names(self, guild_id: int, channel_id: int, prefix: str = "") -> list[str]:
        """Entry names starting with `prefix` (ignoring case), for autocomplete."""
        story = await self._story_or_none(guild_id, channel_id)
        entries = await self.storage.lore.list_for(guild_id, story.id if story else None)
        wanted = prefix.strip().casefold()
        names = dict.fromkeys(e.name for e in entries if e.name.casefold().startswith(wanted))
        return list(names)[:25]

    # --- World Info files ---------------------------------------------------------------------

    @user_errors
    async def lore_import(
        self,
        guild_id: int,
        channel_id: int,
        user_id: int,
        data: bytes,
        *,
        scope: LoreScope = "story",
        is_moderator: bool = False,
    ) -> LoreImported:
        """Add a SillyTavern World Info file's entries to a book (an entry of the same name is
        replaced). Read on a worker thread; every string of the file passes moderation, and
        one blocked string refuses the whole file, storing nothing."""
        story_id = await self._book(guild_id, channel_id, user_id, scope, is_moderator)
        book = await asyncio.to_thread(read_world_info, data)
        if not book.drafts:
            raise InvalidInput("That lorebook has no enabled entries with keys and content.")
        rules = await self.guard.rules(guild_id)
        blocked, redactions = await asyncio.to_thread(
            check_card_texts, self.guard, book.texts, rules
        )
        if blocked is not None:
            raise await self._refuse(
                blocked, rules, "user_input", "A string in that lorebook", user_id=user_id
            )
        drafts = [_redacted(draft, redactions) for draft in book.drafts]
        try:
            added, replaced = await self.storage.lore.put_many(
                guild_id, story_id, drafts, max_entries=MAX_BOOK_ENTRIES
            )
        except LimitReached as exc:
            raise InvalidInput(
                f"That would take the lorebook past {MAX_BOOK_ENTRIES} entries; nothing was "
                "imported. Remove some entries first."
            ) from exc
        notices = ("Some words in the lorebook were hidden.",) if redactions else ()
        return LoreImported(scope, added, replaced, book.skipped, notices)

    @user_errors
    async def lore_export(
        self, guild_id: int, channel_id: int, *, scope: LoreScope = "story"
    ) -> LoreFile:
        """The story's book here (or the server's) as a SillyTavern World Info file."""
        story_id = None
        if scope == "story":
            story_id = (await self._story_here(channel_id)).id
        entries = [
            e
            for e in await self.storage.lore.list_for(guild_id, story_id)
            if e.story_id == story_id
        ]
        stem = f"story-{story_id}-lore" if story_id else "server-lore"
        return LoreFile(f"{stem}.json", world_info_bytes(entries), len(entries))

    # --- helpers ------------------------------------------------------------------------------

    async def _story_or_none(self, guild_id: int, channel_id: int) -> Story | None:
        story = await self.storage.stories.get_active_for_channel(channel_id)
        return story if story is not None and story.guild_id == guild_id else None

    async def _book(
        self, guild_id: int, channel_id: int, user_id: int, scope: str, is_moderator: bool
    ) -> int | None:
        """The story id of the book to change (None: the server's), if the user may."""
        if scope not in SCOPES:
            raise InvalidInput("A lorebook is the story's or the server's: scope story or server.")
        if scope == "server":
            if not is_moderator:
                raise PermissionDenied("Only a moderator can change the server's lorebook.")
            return None
        story = await self._story_here(channel_id)
        require_owner(story, user_id, is_moderator, "change the story's lorebook")
        return story.id

    async def _entry(
        self, guild_id: int, channel_id: int, name: str, scope: LoreScope | None
    ) -> LoreEntry:
        """The entry of that name: the story's here first, then the server's."""
        if scope is not None and scope not in SCOPES:
            raise InvalidInput("A lorebook is the story's or the server's: scope story or server.")
        story = await self._story_or_none(guild_id, channel_id)
        found = None
        if story is not None and scope in (None, "story"):
            found = await self.storage.lore.get_by_name(guild_id, story.id, name)
        if found is None and scope in (None, "server"):
            found = await self.storage.lore.get_by_name(guild_id, None, name)
        if found is None:
            raise UnknownId(f'There is no lore entry called "{name.strip()}" here.')
        return found

    async def _checked_entry(
        self, guild_id: int, user_id: int, values: dict[str, Any]
    ) -> tuple[dict[str, Any], list[str]]:
        """Cleaned, length-checked and moderated entry fields, with notices."""
        fields: dict[str, Any] = {}
        if "name" in values:
            fields["name"] = clean_text(
                str(values["name"]), NAME_CHARS, "The entry's name", single_line=True
            ).text
        if "text" in values:
            fields["text"] = clean_text(
                str(values["text"]), MAX_LORE_CHARS, "The entry's text"
            ).text
        if "keys" in values:
            fields["keys"] = parse_keys(values["keys"])
        if "priority" in values:
            fields["priority"] = _priority(values["priority"])
        rules = await self.guard.rules(guild_id)
        if "name" in fields:
            self.guard.require_no_link(fields["name"], rules, "The entry's name")
        texts = [fields[k] for k in ("name", "text") if k in fields] + list(fields.get("keys", ()))
        checks = self.guard.check_many(texts, rules)
        for checked in checks:
            if checked.blocked:
                raise await self._refuse(
                    checked, rules, "user_input", "That lore entry", user_id=user_id
                )
        redacted = {text: c.text for text, c in zip(texts, checks, strict=True) if c.redacted}
        notices = ["Some words in the entry were hidden."] if redacted else []
        for key in ("name", "text"):
            if key in fields:
                fields[key] = redacted.get(fields[key], fields[key])
        if "keys" in fields:
            fields["keys"] = tuple(redacted.get(key, key) for key in fields["keys"])
        return fields, notices


def parse_keys(keys: str | Sequence[str]) -> tuple[str, ...]:
    """Keys as typed ("door, old mill") or listed, cleaned and checked."""
    raw = keys.split(",") if isinstance(keys, str) else list(keys)
    cleaned = [clean_text(k, KEY_CHARS, "A key", single_line=True).text for k in raw if k.strip()]
    if len(cleaned) > MAX_KEYS:
        raise InvalidInput(f"An entry has at most {MAX_KEYS} keys; that was {len(cleaned)}.")
    return tuple(dict.fromkeys(cleaned))


def lore_view(entry: LoreEntry, status: LoreStatus = "") -> LoreView:
    return LoreView(
        entry.name, _scope_of(entry), entry.keys, entry.text, entry.constant, entry.priority, status
    )


def _priority(value: object) -> int:
    low, high = PRIORITY_RANGE
    try:
        number = int(str(value))
    except ValueError as exc:
        raise InvalidInput("The priority must be a whole number, e.g. 100.") from exc
    if not low <= number <= high:
        raise InvalidInput(f"The priority must be between {low:,} and {high:,}.")
    return number


def _scope_of(entry: LoreEntry) -> LoreScope:
    return "server" if entry.story_id is None else "story"


def _source(entry: LoreEntry) -> str:
    return "guild" if entry.story_id is None else "story"


def _item_key(item: LoreItem) -> tuple[str, str]:
    return item.source, item.name


def _cast(items: Sequence[LoreItem]) -> tuple[str, ...]:
    return tuple(item.name for item in items if item.source == "character")


def _redacted(draft: LoreDraft, redactions: dict[str, str]) -> LoreDraft:
    return LoreDraft(
        name=redactions.get(draft.name, draft.name),
        keys=tuple(redactions.get(key, key) for key in draft.keys),
        text=redactions.get(draft.text, draft.text),
        constant=draft.constant,
        priority=draft.priority,
    )
