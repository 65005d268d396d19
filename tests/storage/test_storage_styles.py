"""Style profiles: the order-independent running mean, stats, preferences, forgetting a user."""

from __future__ import annotations

import random
from typing import Any

import pytest
from storage_testing import FakeClock, model_turn, query

from storage.models import Story, StorySettings
from storage.repositories import Storage

USER = 77


def vectors(count: int, width: int = 16, seed: int = 0) -> list[list[float]]:
    rng = random.Random(seed)
    return [[rng.uniform(-3.0, 3.0) for _ in range(width)] for _ in range(count)]


async def test_no_profile_until_something_is_stored(storage: Storage) -> None:
    assert await storage.styles.get(USER) is None


async def test_mean_of_one_batch(storage: Storage, clock: FakeClock) -> None:
    profile = await storage.styles.add_vectors(USER, [[1.0, 2.0], [3.0, 6.0]])
    assert profile.vector == pytest.approx((2.0, 4.0))
    assert profile.count == 2 and profile.updated_at == clock.now
    assert await storage.styles.get(USER) == profile


async def test_running_mean_does_not_depend_on_order(storage: Storage) -> None:
    batch = vectors(30)
    forward_user, backward_user, single_user = 1, 2, 3
    for start in range(0, 30, 7):
        await storage.styles.add_vectors(forward_user, batch[start : start + 7])
    reversed_batch = batch[::-1]
    for start in range(0, 30, 4):
        await storage.styles.add_vectors(backward_user, reversed_batch[start : start + 4])
    await storage.styles.add_vectors(single_user, batch)

    forward = await storage.styles.get(forward_user)
    backward = await storage.styles.get(backward_user)
    single = await storage.styles.get(single_user)
    assert forward is not None and backward is not None and single is not None
    assert forward.count == backward.count == single.count == 30
    expected = [sum(column) / 30 for column in zip(*batch, strict=True)]
    for profile in (forward, backward, single):
        assert max(abs(a - b) for a, b in zip(profile.vector, expected, strict=True)) < 1e-6


async def test_mismatched_vectors_are_rejected_without_writing(storage: Storage) -> None:
    stored = await storage.styles.add_vectors(USER, [[1.0, 2.0]])
    with pytest.raises(ValueError, match="stored profile has 2"):
        await storage.styles.add_vectors(USER, [[1.0, 2.0, 3.0]])
    with pytest.raises(ValueError, match="same"):
        await storage.styles.add_vectors(USER, [[1.0], [1.0, 2.0]])
    with pytest.raises(ValueError, match="NaN"):
        await storage.styles.add_vectors(USER, [[float("nan"), 1.0]])
    assert await storage.styles.get(USER) == stored


async def test_stats_merge_or_update_inside_the_transaction(storage: Storage) -> None:
    await storage.styles.add_vectors(USER, [[0.0]], {"avg_sentence_len": 10.0, "genres": {}})
    merged = await storage.styles.add_vectors(USER, [[1.0]], {"dialogue_share": 0.5})
    assert merged.stats == {"avg_sentence_len": 10.0, "genres": {}, "dialogue_share": 0.5}

    seen: list[tuple[dict[str, Any], int]] = []

    def running_average(stats: dict[str, Any], count: int) -> dict[str, Any]:
        seen.append((dict(stats), count))
        total = stats["avg_sentence_len"] * count + 40.0
        return {**stats, "avg_sentence_len": total / (count + 1)}

    updated = await storage.styles.add_vectors(USER, [[2.0]], running_average)
    assert seen == [(merged.stats, 2)]
    assert updated.stats["avg_sentence_len"] == pytest.approx(20.0)
    assert updated.vector == pytest.approx((1.0,)) and updated.count == 3


async def test_a_failing_stats_update_writes_nothing(storage: Storage) -> None:
    stored = await storage.styles.add_vectors(USER, [[1.0, 1.0]])

    def broken(stats: dict[str, Any], count: int) -> dict[str, Any]:
        raise RuntimeError("stats bug")

    with pytest.raises(RuntimeError, match="stats bug"):
        await storage.styles.add_vectors(USER, [[5.0, 5.0]], broken)
    assert await storage.styles.get(USER) == stored


async def test_preferences_merge_and_none_removes(storage: Storage) -> None:
    first = await storage.styles.set_preferences(USER, {"tone": "wry", "length": "short"})
    assert first.preferences == {"tone": "wry", "length": "short"}
    assert first.vector == () and first.count == 0
    second = await storage.styles.set_preferences(USER, {"length": None, "pov": "first"})
    assert second.preferences == {"tone": "wry", "pov": "first"}
    with_vectors = await storage.styles.add_vectors(USER, [[1.0, 3.0]])
    assert with_vectors.preferences == second.preferences
    assert with_vectors.vector == pytest.approx((1.0, 3.0))


async def test_delete_returns_rows_deleted(storage: Storage) -> None:
    await storage.styles.add_vectors(USER, [[1.0]])
    assert await storage.styles.delete(USER) == 1
    assert await storage.styles.delete(USER) == 0
    assert await storage.styles.get(USER) is None


async def test_forget_user_removes_style_and_feedback_everywhere(
    storage: Storage, story: Story
) -> None:
    elsewhere = await storage.stories.create(
        guild_id=99,
        channel_id=5,
        owner_id=USER,
        settings=StorySettings(title="Elsewhere", genre="poetry"),
    )
    here = await storage.turns.add(story.id, model_turn("here"))
    there = await storage.turns.add(elsewhere.id, model_turn("there"))
    await storage.styles.add_vectors(USER, vectors(3))
    await storage.styles.add_vectors(USER + 1, vectors(3))
    await storage.feedback.add(here.id, USER, "up")
    await storage.feedback.add(there.id, USER, "keep")
    await storage.feedback.add(there.id, USER + 1, "keep")

    counts = await storage.forget_user(USER)

    assert counts == {"style_profiles": 1, "feedback": 2}
    left = await query(
        storage,
        "SELECT (SELECT count(*) FROM style_profiles WHERE user_id = ?), "
        "(SELECT count(*) FROM feedback WHERE user_id = ?)",
        USER,
        USER,
    )
    assert tuple(left[0]) == (0, 0)
    assert await storage.styles.get(USER + 1) is not None
    assert await storage.feedback.voters(there.id, "keep") == [USER + 1]
    assert await storage.forget_user(USER) == {"style_profiles": 0, "feedback": 0}
