"""Spacing per key kept in the database: a use inside the spacing is refused with the time
left, seen from another storage object on the same database too (another bot process); a
failed request's use is taken back without undoing a later one."""

from __future__ import annotations

import asyncio

from storage_testing import FakeClock

from storage.repositories import Storage


async def test_a_use_inside_the_spacing_is_refused_with_the_time_left(
    storage: Storage, clock: FakeClock
) -> None:
    first, wait = await storage.cooldowns.claim("model", 7, 5.0)
    assert (first, wait) == (clock(), 0.0)
    clock.advance(2)
    assert await storage.cooldowns.claim("model", 7, 5.0) == (None, 3.0)
    assert (await storage.cooldowns.claim("model", 8, 5.0))[1] == 0.0
    assert (await storage.cooldowns.claim("start", 7, 5.0))[1] == 0.0
    clock.advance(3)
    assert await storage.cooldowns.claim("model", 7, 5.0) == (clock(), 0.0)


async def test_another_process_sees_the_use(storage: Storage, open_again, clock: FakeClock) -> None:
    other = await open_again()
    try:
        results = await asyncio.gather(
            storage.cooldowns.claim("model", 7, 5.0), other.cooldowns.claim("model", 7, 5.0)
        )
        assert sorted(wait for _, wait in results) == [0.0, 5.0]
    finally:
        await other.close()


async def test_undo_restores_the_use_before_and_leaves_a_later_one(
    storage: Storage, clock: FakeClock
) -> None:
    first, _ = await storage.cooldowns.claim("model", 7, 5.0)
    assert first is not None
    await storage.cooldowns.undo("model", 7, first)
    assert (await storage.cooldowns.claim("model", 7, 5.0))[1] == 0.0
    clock.advance(10)
    second, _ = await storage.cooldowns.claim("model", 7, 5.0)
    assert second is not None
    await storage.cooldowns.undo("model", 7, second)
    assert await storage.cooldowns.claim("model", 7, 20.0) == (None, 10.0)
    clock.advance(30)
    third, _ = await storage.cooldowns.claim("model", 7, 5.0)
    await storage.cooldowns.undo("model", 7, clock() - 30)  # an older use: nothing changes
    assert third is not None and (await storage.cooldowns.claim("model", 7, 5.0))[0] is None
