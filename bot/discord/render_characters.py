"""Character sheets and lists as messages. Sheets can hold thousands of characters per field,
so they are text split at sentence boundaries rather than embeds (6,000 characters at most)."""

from __future__ import annotations

from bot.discord.render import Out, escape, text_messages
from bot.story.results import CharacterList, CharacterView

SHEET_FIELDS = (
    ("description", "Description"),
    ("personality", "Personality"),
    ("speech_style", "Speech style"),
    ("backstory", "Backstory"),
    ("first_message", "First message"),
)
LIST_DESCRIPTION_CHARS = 80


def sheet_text(character: CharacterView) -> str:
    origin = ", imported card" if character.imported else ""
    lines = [
        f"**{escape(character.name)}** (character #{character.id}{origin}, "
        f"by <@{character.owner_id}>)"
    ]
    for key, title in SHEET_FIELDS:
        value = getattr(character, key)
        if value:
            lines.append(f"**{title}:** {value}")
    if character.tags:
        lines.append(f"**Tags:** {', '.join(escape(tag) for tag in character.tags)}")
    return "\n".join(lines)


def sheet_messages(character: CharacterView, *notices: str) -> list[Out]:
    return text_messages("\n".join([sheet_text(character), *notices]))


def list_messages(result: CharacterList) -> list[Out]:
    if not result.characters:
        return text_messages("No characters yet. Create one with /character create.")
    lines = []
    for character in result.characters:
        about = character.description.replace("\n", " ")
        if len(about) > LIST_DESCRIPTION_CHARS:
            about = about[: LIST_DESCRIPTION_CHARS - 1].rstrip() + "…"
        lines.append(f"**{escape(character.name)}**" + (f" — {about}" if about else ""))
    return text_messages("\n".join(lines))


def sheet_values(character: CharacterView) -> dict[str, str]:
    """The sheet as the modals' text fields (tags comma-separated)."""
    values = {key: getattr(character, key) for key, _ in SHEET_FIELDS}
    values["name"] = character.name
    values["tags"] = ", ".join(character.tags)
    return values


def split_tags(text: str) -> list[str]:
    return [tag.strip() for tag in text.split(",") if tag.strip()]
