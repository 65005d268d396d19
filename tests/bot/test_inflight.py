"""Settling requests a crash interrupted: within the token's 15 minutes the placeholder is
edited; older ones cannot be reached and are dropped; every record is removed either way."""

from __future__ import annotations

from typing import Any

import discord
import pytest
from engine_testing import FakeClock

from bot.discord.inflight import INTERRUPTED, TOKEN_LIFETIME_S, Inflight
from storage.sqlite import SqliteStorage


class Placeholders:
    """Stands in for Discord's interaction webhooks: records each edit, fails for `gone`."""

    def __init__(self, gone: tuple[str, ...] = (), answered: tuple[str, ...] = ()) -> None:
        self.gone, self.answered = gone, answered
        self.edits: list[tuple[int, str, Any, str]] = []

    def partial(self, application_id: int, token: str, **_: Any) -> Placeholders.Hook:
        return Placeholders.Hook(self, application_id, token)

    class Hook:
        def __init__(self, owner: Placeholders, application_id: int, token: str) -> None:
            self.owner, self.application_id, self.token = owner, application_id, token

        async def fetch_message(self, message_id: Any) -> Any:
            if self.token in self.owner.gone:
                raise discord.NotFound(_Response(), {"code": 10015, "message": "Unknown Webhook"})
            flags = discord.MessageFlags(loading=self.token not in self.owner.answered)
            return type("Original", (), {"flags": flags})()

        async def edit_message(self, message_id: Any, **fields: Any) -> None:
            self.owner.edits.append(
                (self.application_id, self.token, message_id, fields["content"])
            )
            if self.token in self.owner.gone:
                raise discord.NotFound(_Response(), {"code": 10015, "message": "Unknown Webhook"})


class _Response:
    status = 404
    reason = "Not Found"


async def test_leftover_requests_are_edited_while_their_token_lasts(
    storage: SqliteStorage, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    hooks = Placeholders()
    monkeypatch.setattr(discord.Webhook, "partial", hooks.partial)
    await storage.inflight.add(500, 42, "old-token")
    clock.advance(TOKEN_LIFETIME_S)
    await storage.inflight.add(501, 42, "fresh-token")
    clock.advance(60)

    settled = await Inflight(
        discord.Client(intents=discord.Intents.none()), storage.inflight, clock
    ).settle()
    assert settled == 1
    assert hooks.edits == [(42, "fresh-token", "@original", INTERRUPTED)]
    assert await storage.inflight.list_all() == []


async def test_an_unreachable_placeholder_does_not_stop_the_others(
    storage: SqliteStorage, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    hooks = Placeholders(gone=("gone",))
    monkeypatch.setattr(discord.Webhook, "partial", hooks.partial)
    await storage.inflight.add(500, 42, "gone")
    await storage.inflight.add(501, 42, "here")
    client = discord.Client(intents=discord.Intents.none())
    assert await Inflight(client, storage.inflight, clock).settle() == 1
    assert [token for _, token, _, _ in hooks.edits] == ["here"]
    assert await storage.inflight.list_all() == []


async def test_a_request_answered_before_the_crash_keeps_its_answer(
    storage: SqliteStorage, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bot died after showing the turn but before forgetting the request: the shown turn
    (with its buttons) must not be replaced by the interruption notice."""
    hooks = Placeholders(answered=("shown",))
    monkeypatch.setattr(discord.Webhook, "partial", hooks.partial)
    await storage.inflight.add(500, 42, "shown")
    await storage.inflight.add(501, 42, "thinking")
    client = discord.Client(intents=discord.Intents.none())
    assert await Inflight(client, storage.inflight, clock).settle() == 1
    assert [token for _, token, _, _ in hooks.edits] == ["thinking"]
    assert await storage.inflight.list_all() == []


async def test_of_several_processes_each_settles_only_its_own_guilds(
    storage: SqliteStorage, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.discord.client import owns_guild
    from bot.settings import BotSection

    hooks = Placeholders()
    monkeypatch.setattr(discord.Webhook, "partial", hooks.partial)
    on_shard_0, on_shard_1 = 4 << 22, 5 << 22
    await storage.inflight.add(500, 42, "mine", guild_id=on_shard_0)
    await storage.inflight.add(501, 42, "the other process's", guild_id=on_shard_1)
    await storage.inflight.add(502, 42, "outside a guild")
    section = BotSection(shard_ids=[0], shard_count=2)

    settled = await Inflight(
        discord.Client(intents=discord.Intents.none()),
        storage.inflight,
        clock,
        owns=lambda guild_id: owns_guild(section, guild_id),
    ).settle()
    assert settled == 2
    assert {token for _, token, _, _ in hooks.edits} == {"mine", "outside a guild"}
    [left] = await storage.inflight.list_all()
    assert (left.token, left.guild_id) == ("the other process's", on_shard_1)


def test_a_guild_belongs_to_the_shard_discord_routes_it_to() -> None:
    from bot.discord.client import owns_guild
    from bot.settings import BotSection

    two_of_four = BotSection(shard_ids=[2, 3], shard_count=4)
    assert owns_guild(two_of_four, 6 << 22) and owns_guild(two_of_four, (7 << 22) + 12345)
    assert not owns_guild(two_of_four, 4 << 22) and not owns_guild(two_of_four, None)
    assert owns_guild(BotSection(), 4 << 22) and owns_guild(BotSection(), None)
