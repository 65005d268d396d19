"""Story memory and lorebooks: one note per story, entries per guild or story, unique names."""

from __future__ import annotations

import inspect

import pytest

from storage import repositories
from storage.errors import Conflict, LimitReached
from storage.models import LoreDraft, Story
from storage.repositories import Storage
from storage.sqlite.lore import SqliteLoreRepository

GUILD = 10


def draft(name: str, *keys: str, text: str = "Some lore.", priority: int = 100) -> LoreDraft:
    return LoreDraft(name=name, keys=keys, text=text, priority=priority)


def test_sqlite_lore_matches_its_protocol() -> None:
    for name, member in vars(repositories.LoreRepository).items():
        if inspect.isfunction(member) and not name.startswith("_"):
            offered = getattr(SqliteLoreRepository, name)
            assert inspect.signature(offered) == inspect.signature(member), name
            assert inspect.iscoroutinefunction(offered)


async def test_memory_is_set_replaced_and_cleared(storage: Storage, story: Story) -> None:
    assert await storage.lore.get_memory(story.id) == ""
    await storage.lore.set_memory(story.id, "Marta keeps the door.")
    await storage.lore.set_memory(story.id, "The door hums at high tide.")
    assert await storage.lore.get_memory(story.id) == "The door hums at high tide."
    await storage.lore.set_memory(story.id, "")
    assert await storage.lore.get_memory(story.id) == ""


async def test_books_are_per_guild_and_story(storage: Storage, story: Story) -> None:
    guild = await storage.lore.create(GUILD, None, draft("Tide", "tide"), max_entries=5)
    own = await storage.lore.create(GUILD, story.id, draft("Door", "door", "Gate"), max_entries=5)
    assert own.keys == ("door", "Gate") and not own.constant and own.story_id == story.id
    same_name = await storage.lore.create(GUILD, story.id, draft("tide"), max_entries=5)
    assert [e.id for e in await storage.lore.list_for(GUILD, story.id)] == [
        guild.id,
        own.id,
        same_name.id,
    ]
    assert [e.id for e in await storage.lore.list_for(GUILD, None)] == [guild.id]
    assert await storage.lore.list_for(GUILD + 1, story.id) == []
    assert (await storage.lore.get_by_name(GUILD, story.id, "DOOR")) == own
    assert await storage.lore.get_by_name(GUILD, None, "door") is None


async def test_names_are_unique_per_book_ignoring_case(storage: Storage, story: Story) -> None:
    await storage.lore.create(GUILD, story.id, draft("Door"), max_entries=5)
    with pytest.raises(Conflict, match="already has an entry"):
        await storage.lore.create(GUILD, story.id, draft(" DOOR "), max_entries=5)
    other = await storage.lore.create(GUILD, story.id, draft("Gate"), max_entries=5)
    with pytest.raises(Conflict):
        await storage.lore.update(other.id, name="door")


async def test_update_and_delete(storage: Storage, story: Story) -> None:
    entry = await storage.lore.create(GUILD, story.id, draft("Door", "door"), max_entries=5)
    changed = await storage.lore.update(entry.id, keys=["gate"], constant=True, priority=7)
    assert (changed.keys, changed.constant, changed.priority) == (("gate",), True, 7)
    assert await storage.lore.delete(entry.id)
    assert not await storage.lore.delete(entry.id)


async def test_put_many_replaces_by_name_within_the_limit(storage: Storage, story: Story) -> None:
    await storage.lore.create(GUILD, story.id, draft("Door", text="old"), max_entries=3)
    added, replaced = await storage.lore.put_many(
        GUILD, story.id, [draft("door", text="new"), draft("Gate")], max_entries=3
    )
    assert (added, replaced) == (1, 1)
    assert (await storage.lore.get_by_name(GUILD, story.id, "Door")).text == "new"
    with pytest.raises(LimitReached):
        await storage.lore.put_many(
            GUILD, story.id, [draft("A"), draft("B"), draft("Gate")], max_entries=3
        )
    assert len(await storage.lore.list_for(GUILD, story.id)) == 2
    with pytest.raises(LimitReached):
        await storage.lore.create(GUILD, story.id, draft("C"), max_entries=2)
