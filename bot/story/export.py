"""A story as a Markdown document: title, settings, premise, then every turn with its byline.

A turn still waiting for Keep is included as it reads now (it is what the story will keep if it
moves on), under a note saying it is not kept yet, so an export taken mid-reroll is complete
and still honest about what was decided.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.story.results import StoryInfo, TurnView

_MARKUP = re.compile(r"[\\`*_~|\[\]]")
PENDING_NOTE = "*Waiting for Keep (kept automatically when the story moves on):*"


def label(value: str) -> str:
    """`fantasy_adventure` -> `Fantasy adventure`."""
    return value.replace("_", " ").capitalize()


def to_markdown(story: StoryInfo, turns: Sequence[TurnView], pending: TurnView | None) -> str:
    lines = [f"# {literal(story.title)}", ""]
    facts = [f"Genre: {label(story.genre)}"]
    if story.mood:
        facts.append(f"Mood: {story.mood}")
    facts.append(f"Started by {literal(story.owner_name)}")
    if story.status != "active":
        facts.append(f"Status: {story.status}")
    lines += [f"*{' · '.join(facts)}*", ""]
    if story.premise:
        lines += [f"> {line}" if line else ">" for line in story.premise.splitlines()]
        lines.append("")
    lines += ["---", ""]
    for turn in turns:
        lines += [turn.text, "", f"— *{literal(turn.byline)}*", ""]
    if pending is not None:
        where = ""
        if pending.alt_count > 1:
            where = f", alternative {pending.alt_index} of {pending.alt_count}"
        lines += [PENDING_NOTE, "", pending.text, "", f"— *{literal(pending.byline)}{where}*", ""]
    if not turns and pending is None:
        lines += ["*No turns yet.*", ""]
    return "\n".join(lines).rstrip() + "\n"


def literal(text: str) -> str:
    """A title or name as literal Markdown: its markup characters and masked links escaped."""
    return _MARKUP.sub(r"\\\g<0>", text)


def export_filename(title: str, story_id: int) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", title.casefold()).strip("-")[:60] or "story"
    return f"{slug}-{story_id}.md"
