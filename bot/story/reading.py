"""Reading stories: overview, list, pages, recap and Markdown export.

Ended stories stay readable by id, by those who can see the place they were played in (the
front end's `CanView`; see access.py): a story found by id that the caller cannot see is
answered as unknown, and lists leave it out. Turns hidden by a moderator are left out. The
alternative waiting for Keep is included as the story reads now, marked as not kept yet: it is
what the story keeps if it moves on, and a reader asking "where are we" expects to see it.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Collection

from bot.errors import InvalidInput, UnknownStory
from bot.story.access import CanView, can_read
from bot.story.books import EXTENSIONS, FORMATS, to_epub, to_html
from bot.story.core import EngineCore
from bot.story.editing import with_histories
from bot.story.export import export_filename, to_markdown
from bot.story.failures import user_errors
from bot.story.links import story_links
from bot.story.results import (
    ExportResult,
    Recap,
    RecapLine,
    StoryList,
    StoryOverview,
    StoryPage,
    TurnView,
)
from bot.story.text import first_sentence
from storage.models import Story, StoryStatus

MAX_PAGE_SIZE = 50
EXPORT_CHUNK = 500
LIST_SCAN = 200
"""How many of a guild's newest stories a list looks through for ones the caller can see."""


class Reading(EngineCore):
    @user_errors
    async def status(self, channel_id: int) -> StoryOverview:
        story = await self._story_here(channel_id)
        return StoryOverview(
            story=await self._info(story),
            turns=await self.storage.turns.count_accepted(story.id),
            pending=await self._pending_view(story),
        )

    @user_errors
    async def list_stories(
        self,
        guild_id: int,
        *,
        statuses: Collection[StoryStatus] | None = None,
        limit: int = 25,
        can_view: CanView | None = None,
    ) -> StoryList:
        """The guild's stories the caller can see, newest first, each with its status."""
        scan = limit if can_view is None else max(limit, LIST_SCAN)
        found = await self.storage.stories.list_for_guild(guild_id, statuses=statuses, limit=scan)
        stories = [story for story in found if can_read(story, can_view)][:limit]
        return StoryList(guild_id=guild_id, stories=tuple([await self._info(s) for s in stories]))

    @user_errors
    async def show(
        self,
        *,
        channel_id: int | None = None,
        story_id: int | None = None,
        guild_id: int | None = None,
        page: int | None = None,
        page_size: int = 10,
        can_view: CanView | None = None,
    ) -> StoryPage:
        """One page of the story (1-based; the last page when `page` is None)."""
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise InvalidInput(f"A page holds 1 to {MAX_PAGE_SIZE} turns.")
        story = await self._readable(channel_id, story_id, guild_id, can_view)
        total = await self.storage.turns.count_accepted(story.id)
        pages = max(1, math.ceil(total / page_size))
        number = pages if page is None else page
        if not 1 <= number <= pages:
            plural = "page" if pages == 1 else "pages"
            raise InvalidInput(f"There is no page {number}; the story has {pages} {plural}.")
        turns = await self.storage.turns.page(story.id, (number - 1) * page_size, page_size)
        names = await self._names(story.id)
        views = await with_histories(
            self.storage, [await self._view(turn, names) for turn in turns], names
        )
        return StoryPage(
            story=await self._info(story),
            turns=tuple(views),
            page=number,
            pages=pages,
            page_size=page_size,
            total=total,
            pending=await self._pending_view(story) if number == pages else None,
            links=await story_links(self.storage, story),
            reactions=await self.storage.reactions.counts([turn.id for turn in turns]),
            reaction_emoji=await self.storage.reactions.emoji(story.guild_id),
        )

    @user_errors
    async def recap(
        self,
        *,
        channel_id: int | None = None,
        story_id: int | None = None,
        guild_id: int | None = None,
        turns: int | None = None,
        can_view: CanView | None = None,
    ) -> Recap:
        """The last `turns` turns condensed to their first sentence, with bylines."""
        count = turns or self.options.recap_turns
        if not 1 <= count <= MAX_PAGE_SIZE:
            raise InvalidInput(f"A recap covers 1 to {MAX_PAGE_SIZE} turns.")
        story = await self._readable(channel_id, story_id, guild_id, can_view)
        names = await self._names(story.id)
        recent = [
            await self._view(t, names)
            for t in await self.storage.turns.recent_accepted(story.id, count)
        ]
        pending = await self._pending_view(story)
        shown = [*recent, pending] if pending is not None else recent
        lines = tuple(
            RecapLine(view.id, view.byline, first_sentence(view.text), view.pending)
            for view in shown[-count:]
        )
        total = await self.storage.turns.count_accepted(story.id)
        return Recap(story=await self._info(story), lines=lines, total_turns=total)

    @user_errors
    async def export(
        self,
        *,
        channel_id: int | None = None,
        story_id: int | None = None,
        guild_id: int | None = None,
        can_view: CanView | None = None,
        format: str = "markdown",
    ) -> ExportResult:
        """The whole story as Markdown, one HTML page or an EPUB book (bot/story/books.py),
        each turn with its byline."""
        if format not in FORMATS:
            raise InvalidInput(
                f"Unknown export format {format!r}; use one of {', '.join(FORMATS)}."
            )
        story = await self._readable(channel_id, story_id, guild_id, can_view)
        names = await self._names(story.id)
        views: list[TurnView] = []
        while True:
            chunk = await self.storage.turns.page(story.id, len(views), EXPORT_CHUNK)
            views += [await self._view(turn, names) for turn in chunk]
            if len(chunk) < EXPORT_CHUNK:
                break
        info = await self._info(story)
        pending = await self._pending_view(story)
        markdown = to_markdown(info, views, pending)
        if format == "html":
            data = to_html(info, views, pending).encode("utf-8")
        elif format == "epub":
            data = await asyncio.to_thread(to_epub, info, views, pending)
        else:
            data = markdown.encode("utf-8")
        filename = export_filename(story.title, story.id).removesuffix(".md")
        return ExportResult(
            story=info,
            markdown=markdown,
            filename=f"{filename}.{EXTENSIONS[format]}",
            format=format,
            data=data,
        )

    async def _readable(
        self,
        channel_id: int | None,
        story_id: int | None,
        guild_id: int | None,
        can_view: CanView | None,
    ) -> Story:
        """The story asked for, if the caller can see where it is played; one they cannot
        see is answered like one that does not exist, so ids do not reveal private stories.
        The story played where the caller asks is always theirs to read."""
        story = await self._story(channel_id=channel_id, story_id=story_id, guild_id=guild_id)
        if story_id is not None and not can_read(story, can_view):
            raise UnknownStory(f"There is no story with id {story_id} here.")
        return story
