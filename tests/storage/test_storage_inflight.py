"""Model requests in flight keep their guild, so each of several bot processes can tell its own
requests from another's after a restart."""

from __future__ import annotations

from storage_testing import FakeClock

from storage.repositories import Storage


async def test_requests_round_trip_with_their_guild(storage: Storage, clock: FakeClock) -> None:
    big_guild = 1_234_567_890_123_456_789
    first = await storage.inflight.add(500, 42, "in-a-guild", big_guild)
    second = await storage.inflight.add(501, 42, "direct")
    found = await storage.inflight.list_all()
    assert [(r.id, r.token, r.guild_id, r.channel_id) for r in found] == [
        (first, "in-a-guild", big_guild, 500),
        (second, "direct", None, 501),
    ]
    assert found[0].started_at == clock()
    await storage.inflight.remove(first)
    assert [r.id for r in await storage.inflight.list_all()] == [second]
