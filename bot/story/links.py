"""A story's branches as readers see them: what it was forked from, and its forks."""

from __future__ import annotations

from bot.story.results import StoryLinks
from storage.models import ForkLink, Story
from storage.repositories import Storage


async def story_links(storage: Storage, story: Story) -> StoryLinks:
    parent, forks = await storage.forks.links(story.id)
    return StoryLinks(
        forked_from=None if parent is None else await _parent_note(storage, parent),
        forks=tuple(link.story_id for link in forks),
    )


async def _parent_note(storage: Storage, link: ForkLink) -> str:
    parent = None if link.parent_id is None else await storage.stories.get(link.parent_id)
    if parent is None:
        return "a story since deleted"
    return f'story #{parent.id} "{parent.title}", after its turn {link.at_slot + 1}'


def link_notes(links: StoryLinks | None) -> list[str]:
    """Plain lines for a story card or page."""
    if links is None:
        return []
    lines = []
    if links.forked_from:
        lines.append(f"Forked from {links.forked_from}.")
    if links.forks:
        lines.append("Forks: " + ", ".join(f"story #{fork}" for fork in links.forks) + ".")
    return lines
