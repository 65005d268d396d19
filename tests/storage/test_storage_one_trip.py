"""Work run on the database thread in one round trip: whole transactions, and what a model turn
reads and writes. All or nothing, one snapshot, and the usual errors."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import pytest
from storage_testing import model_turn, user_turn

from storage.errors import Conflict, DatabaseLocked, NotFound
from storage.models import Story, StorySettings
from storage.sqlite import SqliteStorage, open_storage

# SQLite itself (its files, locks and query plans): PostgreSQL has none of these.
pytestmark = pytest.mark.sqlite_only


def states(path: Path) -> list[tuple[int, int, str]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT slot, alt_index, state FROM turns ORDER BY id").fetchall()
    finally:
        conn.close()


async def test_run_works_on_the_connection_thread(storage: SqliteStorage) -> None:
    seen: list[int] = []

    def work(conn: sqlite3.Connection) -> int:
        seen.append(threading.get_ident())
        return conn.execute("SELECT 41 + 1").fetchone()[0]

    assert await storage.database.run(work) == 42
    assert seen and seen[0] != threading.get_ident()


async def test_a_transaction_that_raises_writes_nothing(
    storage: SqliteStorage, story: Story, db_path: Path
) -> None:
    await storage.turns.add(story.id, user_turn("Kept."))

    def work(conn: sqlite3.Connection) -> None:
        conn.execute("UPDATE turns SET text = 'changed'")
        conn.execute(
            "INSERT INTO turns (story_id, slot, alt_index, author_kind, kind, text, state, "
            "created_at) VALUES (?, 0, 0, 'user', 'narration', 'same slot', 'accepted', 0)",
            (story.id,),
        )

    with pytest.raises(Conflict):
        await storage.database.run_in_transaction(work)
    assert [t.text for t in await storage.turns.recent_accepted(story.id)] == ["Kept."]
    assert (await storage.turns.add(story.id, user_turn("Still usable."))).slot == 1


async def test_keep_and_add_keeps_then_adds(storage: SqliteStorage, story: Story) -> None:
    first = await storage.turns.add(story.id, model_turn("Draft A"))
    second = await storage.turns.add_alternative(story.id, first.slot, model_turn("Draft B"))
    kept, added = await storage.turns.keep_and_add(
        story.id, user_turn("Next.", author_id=44), [second.id], by=44
    )
    assert [(t.id, t.state, t.accepted_by) for t in kept] == [(second.id, "accepted", 44)]
    assert (await storage.turns.get(first.id)).state == "discarded"  # type: ignore[union-attr]
    assert (added.slot, added.state, added.text) == (first.slot + 1, "accepted", "Next.")
    nothing_kept, pending = await storage.turns.keep_and_add(story.id, model_turn("Asked."), [], 44)
    assert nothing_kept == [] and (pending.slot, pending.state) == (added.slot + 1, "pending")


async def test_keep_and_add_is_all_or_nothing(
    storage: SqliteStorage, story: Story, db_path: Path
) -> None:
    pending = await storage.turns.add(story.id, model_turn("Waiting."))
    with pytest.raises(NotFound):  # the new turn's story does not exist: nothing is kept
        await storage.turns.keep_and_add(story.id + 99, user_turn("Lost?"), [pending.id], 30)
    with pytest.raises(NotFound):  # an unknown turn to keep: nothing is added
        await storage.turns.keep_and_add(story.id, user_turn("Lost?"), [pending.id, 999], 30)
    assert states(db_path) == [(0, 0, "pending")]


async def test_keep_and_add_on_a_locked_database_writes_nothing(db_path: Path) -> None:
    async with await open_storage(db_path, busy_timeout_s=0.1) as storage:
        story = await storage.stories.create(
            guild_id=1,
            channel_id=2,
            owner_id=3,
            settings=StorySettings(title="Locked", genre="mystery"),
        )
        pending = await storage.turns.add(story.id, model_turn("Waiting."))
        other = sqlite3.connect(db_path, isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")
        try:
            with pytest.raises(DatabaseLocked, match="nothing was saved"):
                await storage.turns.keep_and_add(story.id, user_turn("Next."), [pending.id], 3)
        finally:
            other.rollback()
            other.close()
        assert states(db_path) == [(0, 0, "pending")]
        kept, added = await storage.turns.keep_and_add(
            story.id, user_turn("Next."), [pending.id], 3
        )
        assert kept[0].state == "accepted" and added.slot == 1


async def test_a_cancelled_caller_leaves_the_transaction_whole(db_path: Path) -> None:
    async with await open_storage(db_path) as storage:
        story = await storage.stories.create(
            guild_id=1,
            channel_id=2,
            owner_id=3,
            settings=StorySettings(title="Cancelled", genre="mystery"),
        )
        pending = await storage.turns.add(story.id, model_turn("Waiting."))
        task = asyncio.create_task(
            storage.turns.keep_and_add(story.id, user_turn("Next."), [pending.id], 3)
        )
        await asyncio.sleep(0)  # submitted to the database thread, then cancelled
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        after = await storage.turns.add(story.id, user_turn("After."))
    rows = states(db_path)
    assert rows in (
        [(0, 0, "pending"), (1, 0, "accepted")],
        [
            (0, 0, "accepted"),
            (1, 0, "accepted"),
            (2, 0, "accepted"),
        ],
    )
    assert after.slot == len(rows) - 1


async def test_model_inputs_match_the_single_reads(storage: SqliteStorage, story: Story) -> None:
    mira = await storage.characters.create(10, 30, "Mira", description="A keeper.")
    await storage.characters.link(story.id, mira.id, 30)
    await storage.styles.add_vectors(30, [[0.5, -0.5]], {"turns": 1})
    for number in range(4):
        await storage.turns.add(story.id, user_turn(f"Turn {number}."))
    asked = await storage.turns.add(story.id, model_turn("Pending."))
    await storage.turns.add_alternative(story.id, asked.slot, model_turn("Rerolled."))

    inputs = await storage.model_inputs(story.id, 30, 3)
    assert inputs.pending == await storage.turns.pending_for_story(story.id)
    assert inputs.context == await storage.turns.recent_context(story.id, 3)
    assert [t.text for t in inputs.context] == ["Turn 1.", "Turn 2.", "Turn 3."]
    assert inputs.characters == [mira]
    assert inputs.style == await storage.styles.get(30)
    assert (await storage.model_inputs(story.id, 31, 3)).style is None


async def test_turn_scene_reads_the_turn_its_slot_story_and_people(
    storage: SqliteStorage, story: Story
) -> None:
    await storage.stories.add_participant(story.id, 30, "Ann")
    await storage.stories.add_participant(story.id, 31, "Ben")
    await storage.stories.remove_participant(story.id, 31)
    await storage.turns.add(story.id, user_turn("Opening."))
    first = await storage.turns.add(story.id, model_turn("Draft A"))
    second = await storage.turns.add_alternative(story.id, first.slot, model_turn("Draft B"))

    scene = await storage.turn_scene(first.id)
    assert scene is not None
    assert scene.turn == first and scene.alternatives == [first, second]
    assert scene.story == await storage.stories.get(story.id)
    assert [p.user_id for p in scene.participants] == [30, 31]
    assert scene.participants == await storage.stories.list_participants(
        story.id, include_left=True
    )
    assert (await storage.turn_scene(second.id)).turn == second  # type: ignore[union-attr]
    assert await storage.turn_scene(9999) is None


async def test_keep_turn_accepts_and_counts_the_keep_together(
    storage: SqliteStorage, story: Story
) -> None:
    first = await storage.turns.add(story.id, model_turn("Draft A"))
    second = await storage.turns.add_alternative(story.id, first.slot, model_turn("Draft B"))
    kept = await storage.keep_turn(second.id, 44)
    assert (kept.state, kept.accepted_by) == ("accepted", 44)
    assert (await storage.turns.get(first.id)).state == "discarded"  # type: ignore[union-attr]
    assert await storage.feedback.voters(second.id, "keep") == [44]
    await storage.keep_turn(second.id, 44)  # a second keep changes nothing
    assert await storage.feedback.count(second.id, "keep") == 1
    with pytest.raises(NotFound):
        await storage.keep_turn(9999, 44)
    assert await storage.feedback.count(9999, "keep") == 0
