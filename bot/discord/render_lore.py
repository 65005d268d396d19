"""Lore entries, listings and the story's memory as Discord messages (and plain text)."""

from __future__ import annotations

from bot.discord.render import escape
from bot.story.lore_results import LoreListing, LoreView, MemoryResult

LIST_ENTRY_CHARS = 80
MESSAGE_CHARS = 1900


def entry_text(entry: LoreView, *notices: str) -> str:
    keys = ", ".join(escape(key) for key in entry.keys) or "none"
    when = "always" if entry.constant else f"keys: {keys}"
    lines = [
        f"**{escape(entry.name)}** ({entry.scope} lore, priority {entry.priority}; {when})",
        escape(entry.text),
        *notices,
    ]
    return "\n".join(lines)[:MESSAGE_CHARS]


def memory_text(result: MemoryResult) -> str:
    body = escape(result.text) if result.text else "(empty)"
    return "\n".join([f"**Story memory** (story #{result.story_id})", body, *result.notices])


def listing_text(listing: LoreListing) -> str:
    lines: list[str] = []
    if listing.story_id is not None:
        memory = escape(listing.memory[:LIST_ENTRY_CHARS]) if listing.memory else "(empty)"
        lines.append(f"**Memory:** {memory}")
    if not listing.entries:
        lines.append("No lore entries yet: add one with /lore add.")
    for entry in listing.entries:
        status = f" — {entry.status}" if entry.status else ""
        lines.append(
            f"- **{escape(entry.name)}** ({entry.scope}, {entry.priority}){status}: "
            f"{escape(entry.text[:LIST_ENTRY_CHARS])}"
        )
    if listing.characters_in_context:
        names = ", ".join(escape(name) for name in listing.characters_in_context)
        lines.append(f"Characters in context: {names}")
    if listing.characters_left_out:
        names = ", ".join(escape(name) for name in listing.characters_left_out)
        lines.append(f"Characters left out (over the lore budget): {names}")
    text = "\n".join(lines)
    return text if len(text) <= MESSAGE_CHARS else text[: MESSAGE_CHARS - 1] + "…"
