"""What one turn asks of SQLite must not grow with the length of the story.

Counted in SQLite's virtual-machine steps (a progress handler), not in time: the count is exact
and the same on any machine. Without statistics SQLite once chose an index that made finding the
pending turns and keeping a turn read every turn of the story; these tests fail on that plan.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from storage_testing import model_turn, user_turn

import storage.sqlite
from storage.models import ContextTurn, Story, StorySettings
from storage.sqlite import SqliteStorage
from storage.sqlite.turns import PENDING, RECENT_ACCEPTED, ContextCache

# SQLite itself (its files, locks and query plans): PostgreSQL has none of these.
pytestmark = pytest.mark.sqlite_only

SHORT, LONG = 100, 3_000
STEP = 10
"""The progress handler runs every STEP virtual-machine instructions."""


async def fill(storage: SqliteStorage, story: Story, turns: int) -> None:
    """`turns` accepted turns, in bulk, with a discarded alternative in every tenth slot."""
    rows = []
    for slot in range(turns):
        rows.append((story.id, slot, 0, f"Turn {slot} of the long story.", "accepted"))
        if slot % 10 == 0:
            rows.append((story.id, slot, 1, f"Another take on turn {slot}.", "discarded"))
    async with storage.database.transaction() as conn:
        await conn.executemany(
            "INSERT INTO turns (story_id, slot, alt_index, author_kind, author_id, author_name, "
            "accepted_by, kind, text, state, created_at) "
            "VALUES (?, ?, ?, 'user', 30, 'Ann', 30, 'narration', ?, ?, 0)",
            rows,
        )


async def steps(storage: SqliteStorage, action: Callable[[], Awaitable[object]]) -> int:
    """Virtual-machine instructions (in units of STEP) that `action` makes SQLite run."""
    count = 0

    def tick() -> int:
        nonlocal count
        count += 1
        return 0

    async with storage.database.read() as conn:
        await conn.set_progress_handler(tick, STEP)
    try:
        await action()
    finally:
        async with storage.database.read() as conn:
            await conn.set_progress_handler(None, STEP)
    return count


async def one_turn_of_each_kind(storage: SqliteStorage, story: Story) -> dict[str, int]:
    """Steps of every statement a turn runs, on a story as it stands."""
    turns = storage.turns
    counted: dict[str, int] = {}
    pending = await turns.add(story.id, model_turn("Asked of the model."))
    counted["pending_for_story"] = await steps(storage, lambda: turns.pending_for_story(story.id))
    counted["recent_context"] = await steps(storage, lambda: turns.recent_context(story.id, 50))
    counted["recent_accepted"] = await steps(storage, lambda: turns.recent_accepted(story.id, 50))
    counted["accept alone"] = await steps(storage, lambda: turns.accept(pending.id, 30))
    asked = await turns.add(story.id, model_turn("Asked again."))
    counted["add_alternative"] = await steps(
        storage, lambda: turns.add_alternative(story.id, asked.slot, model_turn("A reroll."))
    )
    counted["accept with siblings"] = await steps(storage, lambda: turns.accept(asked.id, 30))
    counted["add"] = await steps(storage, lambda: turns.add(story.id, user_turn("Written.")))
    counted["undo_last"] = await steps(storage, lambda: turns.undo_last(story.id))
    await turns.add(story.id, model_turn("Left pending."))
    counted["discard_pending"] = await steps(storage, lambda: turns.discard_pending(story.id))
    return counted


async def test_a_turn_costs_the_same_in_a_long_story(storage: SqliteStorage) -> None:
    short = await storage.stories.create(
        guild_id=1,
        channel_id=10,
        owner_id=30,
        settings=StorySettings(title="Short", genre="poetry"),
    )
    long = await storage.stories.create(
        guild_id=1, channel_id=11, owner_id=30, settings=StorySettings(title="Long", genre="poetry")
    )
    await fill(storage, short, SHORT)
    await fill(storage, long, LONG)
    in_short = await one_turn_of_each_kind(storage, short)
    in_long = await one_turn_of_each_kind(storage, long)
    for name, count in in_short.items():
        # One more level of the B-trees costs a few steps; a scan of the story costs thousands.
        assert in_long[name] <= count * 1.5 + 20, (name, count, in_long[name])


async def test_the_step_count_sees_a_scan(storage: SqliteStorage, story: Story) -> None:
    """The yardstick itself: a statement that reads the whole story counts many more steps."""
    await fill(storage, story, SHORT)
    few = await steps(storage, lambda: storage.turns.count_accepted(story.id))
    await fill_more(storage, story)
    many = await steps(storage, lambda: storage.turns.count_accepted(story.id))
    assert many > few * 5


async def fill_more(storage: SqliteStorage, story: Story) -> None:
    async with storage.database.transaction() as conn:
        await conn.executemany(
            "INSERT INTO turns (story_id, slot, alt_index, author_kind, author_name, kind, "
            "text, state, created_at) VALUES (?, ?, 0, 'user', 'Ann', 'narration', 'x', "
            "'accepted', 0)",
            [(story.id, slot) for slot in range(SHORT, LONG)],
        )


@pytest.mark.parametrize(
    ("query", "index"),
    [
        (RECENT_ACCEPTED, "turns_one_accepted_per_slot"),
        (PENDING, "turns_pending"),
    ],
)
async def test_reads_walk_an_index_without_sorting(
    storage: SqliteStorage, query: str, index: str
) -> None:
    arguments = (1, 50) if query.count("?") == 2 else (1,)
    async with storage.database.read() as conn:
        plan = " ".join(
            row["detail"]
            for row in await conn.execute_fetchall(f"EXPLAIN QUERY PLAN {query}", arguments)
        )
    assert f"USING INDEX {index} (story_id=?)" in plan
    assert "TEMP B-TREE" not in plan


WRITTEN_ONCE_EXCEPT = {"state", "accepted_by", "hidden", "shown_seq"}
"""The only columns of turns that change after a turn is written (ContextCache relies on it)."""

ANONYMISING = "privacy.py"
"""Deleting a user's data rewrites bylines and clears the cache
(tests/storage/test_storage_privacy.py)."""


EDITING = "edits.py"
"""An edit replaces a turn's text and drops it from the cache (see the test below)."""


def test_turns_change_only_state_acceptance_visibility_and_shown_order() -> None:
    folder = Path(storage.sqlite.__file__).parent
    exempt = (ANONYMISING, EDITING)
    sources = sorted(path for path in folder.glob("*.py") if path.name not in exempt)
    # Each source as one line, with adjacent string literals ("..." "...") joined.
    texts = [" ".join(source.read_text().split()).replace('" "', "") for source in sources]
    updates = [
        assignments
        for text in texts
        for assignments in re.findall(r"UPDATE turns SET (.+?) WHERE", text)
    ]
    assert len(updates) >= 7
    for assignments in updates:
        columns = set(re.findall(r"(\w+) = ", assignments))
        assert columns and columns <= WRITTEN_ONCE_EXCEPT, assignments


async def test_context_follows_keeps_undos_and_hides(storage: SqliteStorage, story: Story) -> None:
    """Whatever was read before, the context is what the database holds now."""

    async def context() -> list[str]:
        return [turn.text for turn in await storage.turns.recent_context(story.id, 3)]

    written = [await storage.turns.add(story.id, user_turn(f"Turn {n}.")) for n in range(4)]
    assert await context() == ["Turn 1.", "Turn 2.", "Turn 3."]
    await storage.turns.set_hidden(written[2].id)
    assert await context() == ["Turn 0.", "Turn 1.", "Turn 3."]
    await storage.turns.undo_last(story.id)
    assert await context() == ["Turn 0.", "Turn 1."]
    asked = await storage.turns.add(story.id, model_turn("Asked."))
    assert await context() == ["Turn 0.", "Turn 1."]
    await storage.turns.accept(asked.id, 30)
    assert await context() == ["Turn 0.", "Turn 1.", "Asked."]
    await storage.turns.set_hidden(written[2].id, hidden=False)
    assert await context() == ["Turn 1.", "Turn 2.", "Asked."]


async def test_a_small_context_cache_still_reads_every_turn(
    storage: SqliteStorage, story: Story
) -> None:
    storage.turns.context_cache = ContextCache(size=2)
    for number in range(6):
        await storage.turns.add(story.id, user_turn(f"Turn {number}.", character_name="Mira"))
    expected = [ContextTurn.of(turn) for turn in await storage.turns.recent_accepted(story.id, 4)]
    assert await storage.turns.recent_context(story.id, 4) == expected
    assert await storage.turns.recent_context(story.id, 4) == expected
    assert (await storage.model_inputs(story.id, 30, 4)).context == expected


async def test_an_edit_is_what_the_model_reads(storage: SqliteStorage, story: Story) -> None:
    written = [await storage.turns.add(story.id, user_turn(f"Turn {n}.")) for n in range(2)]
    assert [t.text for t in await storage.turns.recent_context(story.id, 5)] == [
        "Turn 0.",
        "Turn 1.",
    ]
    await storage.edits.edit(written[0].id, 30, "Turn zero, mended.")
    assert [t.text for t in await storage.turns.recent_context(story.id, 5)] == [
        "Turn zero, mended.",
        "Turn 1.",
    ]
