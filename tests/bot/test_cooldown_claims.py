"""A model request that timed out or found the generator busy keeps its cooldown, so people
do not retry at once into the same load; other failures give the claim back."""

from __future__ import annotations

import pytest
from discord import app_commands

from bot.discord.cooldowns import Cooldowns
from bot.errors import GeneratorBusy, GeneratorDown, GeneratorTooSlow, NotYourTurn

USER, CHANNEL, GUILD = 1, 10, 100


class Clock:
    now = 1000.0

    def __call__(self) -> float:
        return self.now


def fail_inside(cooldowns: Cooldowns, error: Exception) -> None:
    with pytest.raises(type(error)), cooldowns.use(USER, CHANNEL, GUILD):
        raise error


@pytest.mark.parametrize(
    "error", [GeneratorTooSlow(), GeneratorBusy()], ids=lambda error: type(error).__name__
)
def test_a_timeout_or_an_overload_keeps_the_cooldown(error: Exception) -> None:
    cooldowns = Cooldowns(5.0, 5.0, 0, Clock())
    fail_inside(cooldowns, error)
    with pytest.raises(app_commands.CommandOnCooldown), cooldowns.use(USER, CHANNEL, GUILD):
        pass


@pytest.mark.parametrize(
    "error", [GeneratorDown(), NotYourTurn("Ann")], ids=lambda error: type(error).__name__
)
def test_other_failures_give_the_claim_back(error: Exception) -> None:
    cooldowns = Cooldowns(5.0, 5.0, 0, Clock())
    fail_inside(cooldowns, error)
    with cooldowns.use(USER, CHANNEL, GUILD):
        pass
