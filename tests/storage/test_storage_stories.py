"""Stories: the one-open-story rule, listing, settings, status, round-robin deadlines, members."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from storage_testing import FakeClock, Opener

from storage.errors import Conflict, NotFound
from storage.models import Story, StorySettings
from storage.repositories import Storage


async def new_story(
    storage: Storage,
    channel_id: int = 20,
    *,
    guild_id: int = 10,
    thread_id: int | None = None,
    **settings: Any,
) -> Story:
    values = {"title": f"Story in {channel_id}", "genre": "fantasy_adventure", **settings}
    return await storage.stories.create(
        guild_id=guild_id,
        channel_id=channel_id,
        owner_id=30,
        thread_id=thread_id,
        settings=StorySettings(**values),
    )


async def test_create_stores_every_field(storage: Storage, clock: FakeClock) -> None:
    settings = StorySettings(
        title="Tide",
        genre="mystery",
        premise="A door opens.",
        mood="eerie",
        mode="round_robin",
        turn_timeout_s=300,
        timeout_action="ai",
        reroll_policy="vote",
        style_matching=True,
        model_id="lstm-v1",
        model_voice="mixed",
    )
    created = await storage.stories.create(
        guild_id=10, channel_id=20, owner_id=30, settings=settings, thread_id=21
    )
    assert created.id > 0 and created.thread_id == 21
    assert created.settings == settings
    assert created.status == "active" and created.current_seat == 0
    assert created.created_at == created.updated_at == clock.now and created.ended_at is None
    assert await storage.stories.get(created.id) == created


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"mode": "chaos"}, "mode must be one of"),
        ({"timeout_action": "wait"}, "timeout_action must be one of"),
        ({"reroll_policy": "anyone"}, "reroll_policy must be one of"),
        ({"model_voice": "poetry"}, "model_voice must be one of"),
        ({"turn_timeout_s": 0}, "turn_timeout_s must be positive"),
    ],
)
async def test_create_refuses_settings_the_database_would_not_hold(
    storage: Storage, settings: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        await new_story(storage, **settings)
    assert await storage.stories.list_for_guild(10) == []


async def test_get_missing_story_is_none(storage: Storage) -> None:
    assert await storage.stories.get(999) is None


async def test_one_open_story_per_channel(storage: Storage) -> None:
    first = await new_story(storage, channel_id=20)
    with pytest.raises(Conflict, match="already has a story"):
        await new_story(storage, channel_id=20)
    await storage.stories.set_status(first.id, "paused")
    with pytest.raises(Conflict):
        await new_story(storage, channel_id=20)

    await storage.stories.set_status(first.id, "ended")
    second = await new_story(storage, channel_id=20)
    assert (await storage.stories.get_active_for_channel(20)) == second
    assert len(await storage.stories.list_for_channel(20)) == 2


async def test_an_ended_story_cannot_reopen_over_a_newer_one(storage: Storage) -> None:
    first = await new_story(storage)
    await storage.stories.set_status(first.id, "ended")
    await new_story(storage)
    with pytest.raises(Conflict, match="cannot be reopened"):
        await storage.stories.set_status(first.id, "active")
    assert (await storage.stories.get(first.id)).status == "ended"  # type: ignore[union-attr]


async def test_stories_in_threads_are_found_by_the_thread(storage: Storage) -> None:
    in_channel = await new_story(storage, channel_id=20)
    in_thread = await new_story(storage, channel_id=20, thread_id=501)
    other_thread = await new_story(storage, channel_id=20, thread_id=502)
    with pytest.raises(Conflict):
        await new_story(storage, channel_id=20, thread_id=501)

    assert await storage.stories.get_active_for_channel(20) == in_channel
    assert await storage.stories.get_active_for_channel(501) == in_thread
    assert in_thread.place_id == 501
    listed = await storage.stories.list_for_channel(20)
    assert {story.id for story in listed} == {in_channel.id, in_thread.id, other_thread.id}
    assert [story.id for story in await storage.stories.list_for_channel(502)] == [other_thread.id]


async def test_active_for_channel_is_none_without_open_story(storage: Storage) -> None:
    created = await new_story(storage)
    await storage.stories.set_status(created.id, "ended")
    assert await storage.stories.get_active_for_channel(20) is None
    assert await storage.stories.get_active_with_participants(20) is None


async def test_listing_filters_by_status_and_paginates_newest_first(
    storage: Storage,
) -> None:
    ids = []
    for channel in range(5):
        created = await new_story(storage, channel_id=100 + channel)
        ids.append(created.id)
    await storage.stories.set_status(ids[1], "ended")
    await storage.stories.set_status(ids[3], "paused")
    await new_story(storage, channel_id=999, guild_id=11)

    everything = await storage.stories.list_for_guild(10)
    assert [story.id for story in everything] == ids[::-1]
    page = await storage.stories.list_for_guild(10, limit=2, offset=2)
    assert [story.id for story in page] == [ids[2], ids[1]]
    open_ones = await storage.stories.list_for_guild(10, statuses=("active", "paused"))
    assert [story.id for story in open_ones] == [ids[4], ids[3], ids[2], ids[0]]
    ended = await storage.stories.list_for_guild(10, statuses=["ended"])
    assert [story.id for story in ended] == [ids[1]]
    assert await storage.stories.list_for_guild(10, statuses=[]) == []
    with pytest.raises(ValueError, match="status"):
        await storage.stories.list_for_guild(10, statuses=["finished"])  # type: ignore[list-item]


async def test_update_settings(storage: Storage, clock: FakeClock) -> None:
    created = await new_story(storage, mood="eerie")
    clock.advance(60)
    updated = await storage.stories.update_settings(
        created,
        replace(
            created.settings,
            mode="round_robin",
            turn_timeout_s=120,
            style_matching=True,
            mood=None,
        ),
    )
    assert (updated.mode, updated.turn_timeout_s, updated.style_matching, updated.mood) == (
        "round_robin",
        120,
        True,
        None,
    )
    assert updated.updated_at == clock.now and updated.created_at == created.created_at
    assert await storage.stories.get(created.id) == updated


async def test_update_settings_keeps_a_change_made_meanwhile(storage: Storage) -> None:
    """Two people change different settings of the story they both read: both changes stay."""
    read = await new_story(storage)
    await storage.stories.update_settings(read, replace(read.settings, title="Renamed"))
    updated = await storage.stories.update_settings(
        read, replace(read.settings, mode="round_robin")
    )
    assert (updated.title, updated.mode) == ("Renamed", "round_robin")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"mode": "chaos"}, "mode must be one of"),
        ({"turn_timeout_s": 0}, "turn_timeout_s"),
    ],
)
async def test_update_settings_rejects_bad_changes(
    storage: Storage, changes: dict[str, Any], message: str
) -> None:
    created = await new_story(storage)
    with pytest.raises(ValueError, match=message):
        await storage.stories.update_settings(created, replace(created.settings, **changes))
    assert await storage.stories.get(created.id) == created


async def test_update_settings_of_missing_story_is_not_found(storage: Storage) -> None:
    created = await new_story(storage)
    gone = replace(created, id=404)
    with pytest.raises(NotFound, match="Story 404"):
        await storage.stories.update_settings(gone, replace(gone.settings, title="Nope"))


async def test_status_changes(storage: Storage, clock: FakeClock) -> None:
    created = await new_story(storage)
    await storage.stories.set_turn(created.id, 0, clock.now + 30)
    paused = await storage.stories.set_status(created.id, "paused")
    assert paused.status == "paused" and paused.ended_at is None
    clock.advance(10)
    ended = await storage.stories.set_status(created.id, "ended")
    assert ended.status == "ended" and ended.ended_at == clock.now
    assert ended.turn_deadline is None
    with pytest.raises(NotFound):
        await storage.stories.set_status(12345, "ended")
    with pytest.raises(ValueError):
        await storage.stories.set_status(created.id, "done")  # type: ignore[arg-type]


async def test_set_turn_with_expected_seat(storage: Storage, clock: FakeClock) -> None:
    created = await new_story(storage, mode="round_robin", turn_timeout_s=60)
    moved = await storage.stories.set_turn(created.id, 1, clock.now + 60, expect_seat=0)
    assert (moved.current_seat, moved.turn_deadline) == (1, clock.now + 60)
    with pytest.raises(Conflict, match="moved on"):
        await storage.stories.set_turn(created.id, 2, clock.now + 60, expect_seat=0)
    assert (await storage.stories.get(created.id)) == moved
    with pytest.raises(NotFound):
        await storage.stories.set_turn(777, 1, None, expect_seat=0)


async def test_due_deadlines_survive_a_restart(open_again: Opener, clock: FakeClock) -> None:
    async with await open_again() as storage:
        soon = await new_story(storage, channel_id=1)
        later = await new_story(storage, channel_id=2)
        paused = await new_story(storage, channel_id=3)
        await new_story(storage, channel_id=4)  # no deadline at all
        await storage.stories.set_turn(soon.id, 1, clock.now + 10)
        await storage.stories.set_turn(later.id, 0, clock.now + 100)
        await storage.stories.set_turn(paused.id, 0, clock.now + 5)
        await storage.stories.set_status(paused.id, "paused")

    async with await open_again() as storage:
        assert await storage.stories.list_due_deadlines(clock.now) == []
        due = await storage.stories.list_due_deadlines(clock.now + 10)
        assert [story.id for story in due] == [soon.id]
        due = await storage.stories.list_due_deadlines(clock.now + 1000)
        assert [story.id for story in due] == [soon.id, later.id]
        assert len(await storage.stories.list_due_deadlines(clock.now + 1000, limit=1)) == 1


async def test_participants_keep_seat_order_and_leavers(
    storage: Storage, story: Story, clock: FakeClock
) -> None:
    ann = await storage.stories.add_participant(story.id, 1, "Ann")
    ben = await storage.stories.add_participant(story.id, 2, "Ben")
    cy = await storage.stories.add_participant(story.id, 3, "Cy")
    assert [p.seat for p in (ann, ben, cy)] == [0, 1, 2]
    assert ann.joined_at == clock.now and ann.active

    clock.advance(5)
    assert await storage.stories.remove_participant(story.id, 2) is True
    assert await storage.stories.remove_participant(story.id, 2) is False
    assert await storage.stories.remove_participant(story.id, 99) is False
    active = await storage.stories.list_participants(story.id)
    assert [p.user_id for p in active] == [1, 3]
    everyone = await storage.stories.list_participants(story.id, include_left=True)
    assert [p.user_id for p in everyone] == [1, 2, 3]
    left = await storage.stories.get_participant(story.id, 2)
    assert left is not None and left.left_at == clock.now and not left.active
    found = await storage.stories.get_active_with_participants(story.place_id)
    assert found == (story, everyone)


async def test_joining_is_idempotent_and_rejoining_goes_last(
    storage: Storage, story: Story
) -> None:
    await storage.stories.add_participant(story.id, 1, "Ann")
    await storage.stories.add_participant(story.id, 2, "Ben")
    again = await storage.stories.add_participant(story.id, 1, "Ann B.")
    assert again.seat == 0 and again.display_name == "Ann B."
    assert len(await storage.stories.list_participants(story.id, include_left=True)) == 2

    await storage.stories.remove_participant(story.id, 1)
    back = await storage.stories.add_participant(story.id, 1, "Ann")
    assert back.active and back.seat == 2
    assert [p.user_id for p in await storage.stories.list_participants(story.id)] == [2, 1]


async def test_participant_characters(storage: Storage, story: Story) -> None:
    hero = await storage.characters.create(10, 1, "Hero")
    joined = await storage.stories.add_participant(story.id, 1, "Ann", character_id=hero.id)
    assert joined.character_id == hero.id
    kept = await storage.stories.add_participant(story.id, 1, "Ann")
    assert kept.character_id == hero.id
    cleared = await storage.stories.set_participant_character(story.id, 1, None)
    assert cleared.character_id is None
    with pytest.raises(NotFound):
        await storage.stories.set_participant_character(story.id, 42, hero.id)


async def test_joining_a_missing_story_is_not_found(storage: Storage) -> None:
    with pytest.raises(NotFound):
        await storage.stories.add_participant(4040, 1, "Ann")
