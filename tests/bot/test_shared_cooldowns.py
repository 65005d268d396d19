"""The per-user spacing of model requests and story starts is kept in storage by `claim`, so a
person is spaced the same when two bot processes (each with its own `Cooldowns`) run the guilds
they write in; a failed request gives the shared slot back, a timed-out one keeps it."""

from __future__ import annotations

import pytest
from discord import app_commands
from engine_testing import FakeClock

from bot.discord.cooldowns import Cooldowns, start_limits
from bot.errors import GeneratorDown, GeneratorTooSlow
from storage.sqlite import SqliteStorage

USER = 1
HOME, ELSEWHERE = (10, 100), (20, 200)
"""(channel, guild) in a guild of each process."""


@pytest.fixture
def processes(storage: SqliteStorage, clock: FakeClock) -> tuple[Cooldowns, Cooldowns]:
    return (
        Cooldowns(5.0, 1.0, 0, clock, shared=storage.cooldowns),
        Cooldowns(5.0, 1.0, 0, clock, shared=storage.cooldowns),
    )


async def test_a_request_in_one_process_spaces_the_user_in_the_other(
    processes: tuple[Cooldowns, Cooldowns], clock: FakeClock
) -> None:
    first, second = processes
    async with first.claim(USER, *HOME):
        pass
    clock.advance(2)
    with pytest.raises(app_commands.CommandOnCooldown) as refused:
        async with second.claim(USER, *ELSEWHERE):
            pytest.fail("the user was let through")
    assert refused.value.retry_after == pytest.approx(3.0)
    async with second.claim(USER + 1, *ELSEWHERE):
        pass
    clock.advance(3)
    async with second.claim(USER, *ELSEWHERE):
        pass


async def test_a_failed_request_gives_the_shared_slot_back(
    processes: tuple[Cooldowns, Cooldowns],
) -> None:
    first, second = processes
    with pytest.raises(GeneratorDown):
        async with first.claim(USER, *HOME):
            raise GeneratorDown()
    async with second.claim(USER, *ELSEWHERE):
        pass


async def test_a_timed_out_request_keeps_the_shared_slot(
    processes: tuple[Cooldowns, Cooldowns],
) -> None:
    first, second = processes
    with pytest.raises(GeneratorTooSlow):
        async with first.claim(USER, *HOME):
            raise GeneratorTooSlow()
    with pytest.raises(app_commands.CommandOnCooldown):
        async with second.claim(USER, *ELSEWHERE):
            pass


async def test_story_starts_are_spaced_apart_from_model_requests(
    storage: SqliteStorage, clock: FakeClock, processes: tuple[Cooldowns, Cooldowns]
) -> None:
    starts = [start_limits(30.0, 0, clock, shared=storage.cooldowns) for _ in range(2)]
    async with processes[0].claim(USER, *HOME), starts[0].claim(USER, *HOME):
        pass
    with pytest.raises(app_commands.CommandOnCooldown):
        async with starts[1].claim(USER, *ELSEWHERE):
            pass
