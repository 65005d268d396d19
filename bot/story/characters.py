"""Character sheets: create, edit, delete, show, list, bring into a story, import and export
as Character Card V2.

Characters belong to a guild and are owned by the user who made them; names are unique per
owner (ignoring case). Every field passes the guild's moderation before it is stored. A member
who brings their own character into a story plays it there: a timed-out round-robin turn is
then written in that character's voice.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from bot.errors import DuplicateCharacter, InvalidInput, PermissionDenied, UnknownCharacter
from bot.story.card_checks import check_card_texts
from bot.story.cards import (
    ImportedCard,
    card_json_bytes,
    card_png_bytes,
    read_card,
    replace_texts,
)
from bot.story.core import EngineCore
from bot.story.failures import user_errors
from bot.story.from_records import character_view
from bot.story.ratelimit import WindowLimit
from bot.story.results import (
    CardFile,
    CastResult,
    CharacterDeleted,
    CharacterList,
    CharacterResult,
)
from bot.story.text import clean_text, optional_text
from storage.errors import Conflict, LimitReached
from storage.models import Character

NAME_CHARS = 100
FIELD_CHARS = {
    "description": 8000,
    "personality": 4000,
    "speech_style": 1000,
    "backstory": 8000,
    "first_message": 4000,
}
MAX_TAGS = 50
TAG_CHARS = 60
EDITABLE = frozenset({"name", "tags", *FIELD_CHARS})


class Characters(EngineCore):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._card_imports = WindowLimit(
            self.options.card_imports_per_window, self.options.card_import_window_s, self.clock
        )

    @user_errors
    async def character_create(
        self,
        guild_id: int,
        user_id: int,
        name: str,
        *,
        description: str = "",
        personality: str = "",
        speech_style: str = "",
        backstory: str = "",
        first_message: str = "",
        tags: Sequence[str] = (),
    ) -> CharacterResult:
        fields, notices = await self._checked_sheet(
            guild_id,
            user_id,
            {
                "name": name,
                "description": description,
                "personality": personality,
                "speech_style": speech_style,
                "backstory": backstory,
                "first_message": first_message,
            },
        )
        tags = await self._checked_tags(guild_id, user_id, clean_tags(tags))
        return await self._create(guild_id, user_id, fields, tags, None, notices)

    @user_errors
    async def character_edit(
        self,
        guild_id: int,
        user_id: int,
        current_name: str,
        /,
        *,
        is_moderator: bool = False,
        **changes: str | Sequence[str],
    ) -> CharacterResult:
        """Change fields of your character (a moderator may change anyone's); `name` renames."""
        unknown = sorted(set(changes) - EDITABLE)
        if unknown:
            raise InvalidInput(
                f"Unknown character field {', '.join(unknown)}; use {', '.join(sorted(EDITABLE))}."
            )
        if not changes:
            raise InvalidInput('Say what to change, e.g. personality:"brave and curious".')
        character = await self._editable(guild_id, user_id, current_name, is_moderator)
        texts = {key: str(value) for key, value in changes.items() if key != "tags"}
        fields, notices = await self._checked_sheet(guild_id, user_id, texts)
        values: dict[str, object] = dict(fields)
        if "tags" in changes:
            tags = changes["tags"]
            values["tags"] = await self._checked_tags(
                guild_id, user_id, clean_tags([tags] if isinstance(tags, str) else tags)
            )
        try:
            updated = await self.storage.characters.update(character.id, **values)
        except Conflict as exc:
            raise DuplicateCharacter(str(exc)) from exc
        return CharacterResult(character=character_view(updated), notices=tuple(notices))

    @user_errors
    async def character_delete(
        self, guild_id: int, user_id: int, name: str, *, is_moderator: bool = False
    ) -> CharacterDeleted:
        character = await self._editable(guild_id, user_id, name, is_moderator)
        await self.storage.characters.delete(character.id)
        return CharacterDeleted(character_id=character.id, name=character.name)

    @user_errors
    async def character_show(
        self, guild_id: int, name: str, user_id: int | None = None
    ) -> CharacterResult:
        """The caller's character of that name, else the guild's oldest one."""
        return CharacterResult(character_view(await self._find_character(guild_id, name, user_id)))

    @user_errors
    async def character_list(
        self, guild_id: int, owner_id: int | None = None, *, limit: int = 100
    ) -> CharacterList:
        characters = self.storage.characters
        if owner_id is None:
            found = await characters.list_for_guild(guild_id, limit=limit)
        else:
            found = await characters.list_for_owner(guild_id, owner_id)
        return CharacterList(guild_id, tuple(character_view(c) for c in found))

    @user_errors
    async def cast(self, channel_id: int, user_id: int, name: str) -> CastResult:
        """Bring a character into the story here; your own becomes the one you play."""
        story = await self._story_here(channel_id)
        character = await self._find_character(story.guild_id, name, user_id)
        await self.storage.characters.link(story.id, character.id, user_id)
        plays_as = False
        if character.owner_id == user_id:
            member = await self.storage.stories.get_participant(story.id, user_id)
            if member is not None and member.active and member.character_id is None:
                await self.storage.stories.set_participant_character(
                    story.id, user_id, character.id
                )
                plays_as = True
        return CastResult(
            story=await self._info(story),
            character=character_view(character),
            added=True,
            plays_as=plays_as,
        )

    @user_errors
    async def uncast(
        self, channel_id: int, user_id: int, name: str, *, is_moderator: bool = False
    ) -> CastResult:
        """Take a character out of the story here (its owner, the story's owner or a moderator)."""
        story = await self._story_here(channel_id)
        linked = {
            c.name.casefold(): c for c in await self.storage.characters.list_for_story(story.id)
        }
        character = linked.get(name.strip().casefold())
        if character is None:
            raise UnknownCharacter(f'"{name.strip()}" is not in this story.')
        if user_id not in (story.owner_id, character.owner_id) and not is_moderator:
            raise PermissionDenied(
                "Only the character's owner, the story's owner or a moderator can take it out."
            )
        await self.storage.characters.unlink(story.id, character.id)
        for member in await self._participants(story.id):
            if member.character_id == character.id:
                await self.storage.stories.set_participant_character(story.id, member.user_id, None)
        return CastResult(
            story=await self._info(story), character=character_view(character), added=False
        )

    @user_errors
    async def character_import(self, guild_id: int, user_id: int, data: bytes) -> CharacterResult:
        """Create a character from a Character Card (V1 or V2; JSON or PNG), read on a worker
        thread so a large card never stalls other stories. Every string the card stores is
        moderated (see card_checks); a member may start `card_imports_per_window` imports per
        window."""
        wait = self._card_imports.take((guild_id, user_id))
        if wait > 0:
            raise InvalidInput(
                f"You have imported {self.options.card_imports_per_window} cards recently; "
                f"try again in {_duration(wait)}."
            )
        card = await asyncio.to_thread(read_card, data)
        fields, notices = await self._checked_sheet(
            guild_id,
            user_id,
            {
                "name": card.name,
                "description": card.description,
                "personality": card.personality,
                "speech_style": card.speech_style,
                "backstory": card.backstory,
                "first_message": card.first_message,
            },
        )
        card_json, card_notices = await self._checked_card(guild_id, user_id, card)
        return await self._create(
            guild_id,
            user_id,
            fields,
            await self._checked_tags(guild_id, user_id, clean_tags(card.tags)),
            card_json,
            [*notices, *card_notices],
        )

    @user_errors
    async def character_export(
        self,
        guild_id: int,
        user_id: int,
        name: str,
        file_format: Literal["json", "png"] = "json",
    ) -> CardFile:
        """The character as a Character Card V2 file, keeping every field of an imported card."""
        if file_format not in ("json", "png"):
            raise InvalidInput("Export a card as json or png.")
        character = await self._find_character(guild_id, name, user_id)
        stem = "".join(c if c.isalnum() else "_" for c in character.name).strip("_") or "character"
        if file_format == "png":
            png = await asyncio.to_thread(card_png_bytes, character)
            return CardFile(character_view(character), f"{stem}.png", "image/png", png)
        return CardFile(
            character_view(character),
            f"{stem}.json",
            "application/json",
            card_json_bytes(character),
        )

    async def _create(
        self,
        guild_id: int,
        user_id: int,
        fields: Mapping[str, str],
        tags: tuple[str, ...],
        card_json: str | None,
        notices: Sequence[str],
    ) -> CharacterResult:
        values = dict(fields)
        name = values.pop("name")
        most = self.options.max_characters_per_user
        try:
            created = await self.storage.characters.create(
                guild_id,
                user_id,
                name,
                tags=tags,
                card_json=card_json,
                max_per_owner=most,
                **values,
            )
        except LimitReached as exc:
            raise InvalidInput(
                f"You already have {most} characters here, the most one member may keep; "
                "delete one before making or importing another."
            ) from exc
        except Conflict as exc:
            raise DuplicateCharacter(str(exc)) from exc
        return CharacterResult(character=character_view(created), notices=tuple(notices))

    async def _checked_card(
        self, guild_id: int, user_id: int, card: ImportedCard
    ) -> tuple[str, list[str]]:
        """The card text to store, with moderation's redactions written in; refuses a card
        with any blocked string."""
        rules = await self.guard.rules(guild_id)
        blocked, redactions = await asyncio.to_thread(
            check_card_texts, self.guard, card.texts, rules
        )
        if blocked is not None:
            raise await self._refuse(
                blocked,
                rules,
                "character",
                "A field of that card",
                user_id=user_id,
            )
        if not redactions:
            return card.card_json, []
        card_json = await asyncio.to_thread(replace_texts, card.card_json, redactions)
        return card_json, ["Some words in the card's other fields were hidden."]

    async def _editable(
        self, guild_id: int, user_id: int, name: str, is_moderator: bool
    ) -> Character:
        """Your character of that name; a moderator may reach anyone's."""
        own = await self.storage.characters.get_by_name(guild_id, name, owner_id=user_id)
        if own is not None:
            return own
        other = await self._find_character(guild_id, name)
        if not is_moderator:
            raise PermissionDenied(
                f'"{other.name}" belongs to someone else; only they or a moderator can change it.'
            )
        return other

    async def _checked_tags(
        self, guild_id: int, user_id: int, tags: tuple[str, ...]
    ) -> tuple[str, ...]:
        """Tags pass the guild's moderation like the other fields: `/character show` shows them."""
        if not tags:
            return tags
        rules = await self.guard.rules(guild_id)
        checked = self.guard.check_many(tags, rules)
        for one in checked:
            if one.blocked:
                raise await self._refuse(
                    one, rules, "character", "That character's tags", user_id=user_id
                )
        return tuple(one.text for one in checked)

    async def _checked_sheet(
        self, guild_id: int, user_id: int, values: Mapping[str, str]
    ) -> tuple[dict[str, str], list[str]]:
        """Cleaned, length-checked and moderated sheet fields, with notices for the owner."""
        fields: dict[str, str] = {}
        removed = 0
        for key, value in values.items():
            what = f"The character's {key.replace('_', ' ')}"
            if key == "name":
                cleaned = clean_text(value, NAME_CHARS, what, single_line=True)
            else:
                cleaned = optional_text(value, FIELD_CHARS[key], what)
            fields[key] = cleaned.text
            removed += cleaned.removed
        rules = await self.guard.rules(guild_id)
        if fields.get("name"):
            self.guard.require_no_link(fields["name"], rules, "The character's name")
        keys = [key for key, text in fields.items() if text]
        notices = []
        for key, checked in zip(
            keys, self.guard.check_many([fields[key] for key in keys], rules), strict=True
        ):
            if checked.blocked:
                raise await self._refuse(
                    checked, rules, "character", "That character sheet", user_id=user_id
                )
            if checked.redacted:
                fields[key] = checked.text
                notices.append(f"Some words in the {key.replace('_', ' ')} were hidden.")
        if removed:
            notices.append(f"Removed {removed} invisible characters (zero-width or direction).")
        return fields, notices


def _duration(seconds: float) -> str:
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}" if seconds > 60 else "a minute"


def clean_tags(tags: Sequence[str]) -> tuple[str, ...]:
    cleaned = []
    for tag in tags:
        text = optional_text(str(tag), TAG_CHARS, "A tag", single_line=True).text
        if text and text.casefold() not in (t.casefold() for t in cleaned):
            cleaned.append(text)
    if len(cleaned) > MAX_TAGS:
        raise InvalidInput(f"A character takes at most {MAX_TAGS} tags.")
    return tuple(cleaned)
