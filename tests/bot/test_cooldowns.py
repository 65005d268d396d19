"""Model cooldowns: per user and per channel, with a guild cap a minute only against abuse."""

from __future__ import annotations

import pytest
from discord import app_commands

from bot.discord.cooldowns import Cooldowns, GuildBusy
from bot.discord.tree import explain

GUILD = 10


def cooldowns_at(now: list[float], *, guild_cap: int = 100) -> Cooldowns:
    return Cooldowns(user_s=5, channel_s=2, guild_cap=guild_cap, clock=lambda: now[0])


def test_a_cooldown_counts_from_the_last_request_and_a_failure_gives_it_back() -> None:
    now = [100.0]
    cooldowns = cooldowns_at(now)
    with cooldowns.use(1, 500, GUILD):
        pass
    with pytest.raises(app_commands.CommandOnCooldown) as early, cooldowns.use(1, 501, GUILD):
        pass
    assert early.value.retry_after == pytest.approx(5)
    now[0] = 101.0
    with pytest.raises(app_commands.CommandOnCooldown) as channel, cooldowns.use(2, 500, GUILD):
        pass
    assert channel.value.retry_after == pytest.approx(1)
    now[0] = 103.0
    with pytest.raises(RuntimeError), cooldowns.use(2, 500, GUILD):
        raise RuntimeError("refused")
    with cooldowns.use(2, 500, GUILD):
        pass


def test_ten_users_in_ten_channels_of_one_guild_are_all_served_at_once() -> None:
    now = [100.0]
    cooldowns = cooldowns_at(now)
    for user in range(10):
        with cooldowns.use(user, 500 + user, GUILD):
            pass


def test_the_guild_cap_counts_requests_over_a_minute_and_says_so() -> None:
    now = [100.0]
    cooldowns = cooldowns_at(now, guild_cap=3)
    for user in range(3):
        now[0] += 1
        with cooldowns.use(user, 500 + user, GUILD):
            pass
    with pytest.raises(GuildBusy) as busy, cooldowns.use(9, 509, GUILD):
        pass
    assert busy.value.retry_after == pytest.approx(58)
    assert explain(busy.value) == (
        "This server has asked the model for many turns this minute; try again in 58 s."
    )
    with cooldowns.use(9, 509, GUILD + 1):
        pass
    now[0] = 161.5
    with cooldowns.use(9, 509, GUILD):
        pass
    with pytest.raises(GuildBusy), cooldowns.use(8, 508, GUILD):
        pass


def test_a_failed_request_gives_its_guild_slot_back() -> None:
    now = [100.0]
    cooldowns = cooldowns_at(now, guild_cap=1)
    with pytest.raises(RuntimeError), cooldowns.use(1, 500, GUILD):
        raise RuntimeError("refused")
    with cooldowns.use(2, 501, GUILD):
        pass
