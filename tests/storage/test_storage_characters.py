"""Characters: sheets, case-insensitive unique names, autocomplete, story links."""

from __future__ import annotations

import json

import pytest
from storage_testing import FakeClock, user_turn

from storage.errors import Conflict, NotFound
from storage.models import Story
from storage.repositories import Storage

GUILD, OWNER, OTHER = 10, 1, 2


async def test_create_and_get(storage: Storage, clock: FakeClock) -> None:
    card = json.dumps({"spec": "chara_card_v2", "data": {"name": "Mira", "extensions": {"x": 1}}})
    mira = await storage.characters.create(
        GUILD,
        OWNER,
        "Mira",
        description="A cartographer.",
        personality="curious",
        speech_style="clipped",
        backstory="Lost at sea.",
        first_message="Hold the lantern.",
        tags=["explorer", "sea"],
        card_json=card,
    )
    assert mira.tags == ("explorer", "sea") and mira.card_json == card
    assert mira.created_at == mira.updated_at == clock.now
    assert await storage.characters.get(mira.id) == mira
    assert await storage.characters.get(mira.id + 1) is None


@pytest.mark.parametrize("duplicate", ["mira", "MIRA", "  Mira ", "Ｍｉｒａ"])
async def test_duplicate_names_for_one_owner_conflict(storage: Storage, duplicate: str) -> None:
    await storage.characters.create(GUILD, OWNER, "Mira")
    with pytest.raises(Conflict, match="already have a character") as raised:
        await storage.characters.create(GUILD, OWNER, duplicate)
    assert duplicate.strip() in str(raised.value)
    assert len(await storage.characters.list_for_owner(GUILD, OWNER)) == 1


async def test_unicode_case_folding_counts_as_the_same_name(storage: Storage) -> None:
    await storage.characters.create(GUILD, OWNER, "Straße")
    with pytest.raises(Conflict):
        await storage.characters.create(GUILD, OWNER, "STRASSE")
    await storage.characters.create(GUILD, OWNER, "Ærwyn")
    with pytest.raises(Conflict):
        await storage.characters.create(GUILD, OWNER, "ærwyn")


async def test_same_name_is_fine_for_other_owners_and_guilds(storage: Storage) -> None:
    first = await storage.characters.create(GUILD, OWNER, "Mira")
    await storage.characters.create(GUILD, OTHER, "mira")
    await storage.characters.create(GUILD + 1, OWNER, "Mira")
    assert await storage.characters.get_by_name(GUILD, "MIRA") == first
    theirs = await storage.characters.get_by_name(GUILD, "Mira", owner_id=OTHER)
    assert theirs is not None and theirs.owner_id == OTHER and theirs.name == "mira"
    assert await storage.characters.get_by_name(GUILD, "Nobody") is None


async def test_blank_names_are_rejected(storage: Storage) -> None:
    with pytest.raises(ValueError, match="name"):
        await storage.characters.create(GUILD, OWNER, "   ")


async def test_listing(storage: Storage) -> None:
    for owner, name in [(OWNER, "zed"), (OTHER, "Amy"), (OWNER, "bob"), (OTHER, "Cat")]:
        await storage.characters.create(GUILD, owner, name)
    await storage.characters.create(GUILD + 1, OWNER, "Elsewhere")
    names = [c.name for c in await storage.characters.list_for_guild(GUILD)]
    assert names == ["Amy", "bob", "Cat", "zed"]
    page = await storage.characters.list_for_guild(GUILD, limit=2, offset=1)
    assert [c.name for c in page] == ["bob", "Cat"]
    assert [c.name for c in await storage.characters.list_for_owner(GUILD, OWNER)] == [
        "bob",
        "zed",
    ]


async def test_search_names_for_autocomplete(storage: Storage) -> None:
    for owner, name in [
        (OWNER, "Mira"),
        (OTHER, "mirabel"),
        (OWNER, "Miro"),
        (OWNER, "Amir"),
        (OTHER, "Mira"),
        (OWNER, "100%_real"),
    ]:
        await storage.characters.create(GUILD, owner, name)
    assert await storage.characters.search_names(GUILD, "mir") == ["Mira", "mirabel", "Miro"]
    assert await storage.characters.search_names(GUILD, "MIR", limit=2) == ["Mira", "mirabel"]
    assert await storage.characters.search_names(GUILD, "mir", owner_id=OTHER) == [
        "Mira",
        "mirabel",
    ]
    assert await storage.characters.search_names(GUILD, "%") == []
    assert await storage.characters.search_names(GUILD, "100%_") == ["100%_real"]
    assert len(await storage.characters.search_names(GUILD, "")) == 5
    assert await storage.characters.search_names(GUILD + 1, "m") == []


async def test_update(storage: Storage, clock: FakeClock) -> None:
    mira = await storage.characters.create(GUILD, OWNER, "Mira", tags=["a"])
    clock.advance(30)
    changed = await storage.characters.update(
        mira.id, name="Mirabel", personality="bold", tags=["b", "c"], card_json=None
    )
    assert (changed.name, changed.personality, changed.tags) == ("Mirabel", "bold", ("b", "c"))
    assert changed.updated_at == clock.now and changed.created_at == mira.created_at
    assert await storage.characters.get_by_name(GUILD, "mirabel") == changed
    assert await storage.characters.get_by_name(GUILD, "mira") is None


async def test_update_rejects_duplicates_unknown_fields_and_missing(
    storage: Storage,
) -> None:
    mira = await storage.characters.create(GUILD, OWNER, "Mira")
    await storage.characters.create(GUILD, OWNER, "Juno")
    with pytest.raises(Conflict, match="JUNO"):
        await storage.characters.update(mira.id, name="JUNO")
    with pytest.raises(ValueError, match="owner_id"):
        await storage.characters.update(mira.id, owner_id=OTHER)
    with pytest.raises(ValueError, match="tags"):
        await storage.characters.update(mira.id, tags="one string")
    with pytest.raises(NotFound):
        await storage.characters.update(mira.id + 100, description="x")
    assert await storage.characters.get(mira.id) == mira


async def test_story_links(storage: Storage, story: Story, clock: FakeClock) -> None:
    mira = await storage.characters.create(GUILD, OWNER, "Mira")
    juno = await storage.characters.create(GUILD, OTHER, "Juno")
    link = await storage.characters.link(story.id, juno.id, added_by=OTHER)
    assert (link.story_id, link.character_id, link.added_by, link.added_at) == (
        story.id,
        juno.id,
        OTHER,
        clock.now,
    )
    clock.advance(1)
    await storage.characters.link(story.id, mira.id, added_by=OWNER)
    again = await storage.characters.link(story.id, juno.id, added_by=OWNER)
    assert again == link
    assert [c.name for c in await storage.characters.list_for_story(story.id)] == ["Juno", "Mira"]

    assert await storage.characters.unlink(story.id, juno.id) is True
    assert await storage.characters.unlink(story.id, juno.id) is False
    assert [c.name for c in await storage.characters.list_for_story(story.id)] == ["Mira"]
    with pytest.raises(NotFound):
        await storage.characters.link(story.id, 999, added_by=OWNER)


async def test_delete_keeps_turns_and_drops_links(storage: Storage, story: Story) -> None:
    mira = await storage.characters.create(GUILD, OWNER, "Mira")
    await storage.characters.link(story.id, mira.id, added_by=OWNER)
    await storage.stories.add_participant(story.id, OWNER, "Ann", character_id=mira.id)
    spoken = await storage.turns.add(
        story.id,
        user_turn('"Hello."', kind="dialogue", character_id=mira.id, character_name="Mira"),
    )

    assert await storage.characters.delete(mira.id) is True
    assert await storage.characters.delete(mira.id) is False
    assert await storage.characters.list_for_story(story.id) == []
    kept = await storage.turns.get(spoken.id)
    assert kept is not None and kept.character_id is None and kept.character_name == "Mira"
    member = await storage.stories.get_participant(story.id, OWNER)
    assert member is not None and member.character_id is None
