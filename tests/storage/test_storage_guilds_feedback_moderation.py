"""Guild settings, feedback on turns and moderation events."""

from __future__ import annotations

from dataclasses import replace

import pytest
from storage_testing import FakeClock, model_turn

from storage.errors import Conflict, NotFound
from storage.models import DEFAULT_COOLDOWN_SECONDS, GuildSettings, Story
from storage.repositories import Storage

GUILD = 10


async def test_guild_defaults_when_nothing_saved(storage: Storage) -> None:
    settings = await storage.guilds.get(GUILD)
    assert settings == GuildSettings(guild_id=GUILD)
    assert settings.moderation_level == "teen" and settings.blocked_terms == {}
    assert settings.cooldown_seconds == DEFAULT_COOLDOWN_SECONDS and settings.updated_at == 0.0


async def test_guild_upsert_round_trips_and_updates(storage: Storage, clock: FakeClock) -> None:
    wanted = GuildSettings(
        guild_id=GUILD,
        moderation_level="family",
        blocked_terms={"*": ["grimdark"], "violence": ["gore"]},
        exempt_terms={"profanity": ["Scunthorpe"]},
        plain_message_mode=True,
        cooldown_seconds=2.5,
    )
    saved = await storage.guilds.upsert(wanted)
    assert saved == replace(wanted, updated_at=clock.now)
    assert await storage.guilds.get(GUILD) == saved

    clock.advance(10)
    changed = await storage.guilds.upsert(replace(saved, moderation_level="mature"))
    assert (await storage.guilds.get(GUILD)) == changed
    assert changed.moderation_level == "mature" and changed.updated_at == clock.now
    assert await storage.guilds.get(GUILD + 1) == GuildSettings(guild_id=GUILD + 1)


@pytest.mark.parametrize(
    "bad",
    [
        {"moderation_level": "anything"},
        {"cooldown_seconds": -1.0},
        {"blocked_terms": {"*": "not a list"}},
    ],
)
async def test_guild_upsert_rejects_bad_values(storage: Storage, bad: dict) -> None:
    with pytest.raises(ValueError):
        await storage.guilds.upsert(replace(GuildSettings(guild_id=GUILD), **bad))
    assert await storage.guilds.get(GUILD) == GuildSettings(guild_id=GUILD)


async def test_feedback_is_idempotent_and_counted(storage: Storage, story: Story) -> None:
    turn = await storage.turns.add(story.id, model_turn("Vote on me."))
    assert await storage.feedback.add(turn.id, 1, "reroll_vote") is True
    assert await storage.feedback.add(turn.id, 1, "reroll_vote") is False
    assert await storage.feedback.add(turn.id, 2, "reroll_vote") is True
    assert await storage.feedback.add(turn.id, 1, "up") is True

    assert await storage.feedback.count(turn.id, "reroll_vote") == 2
    assert await storage.feedback.count(turn.id, "up") == 1
    assert await storage.feedback.count(turn.id, "down") == 0
    assert await storage.feedback.voters(turn.id, "reroll_vote") == [1, 2]
    with pytest.raises(ValueError):
        await storage.feedback.add(turn.id, 1, "love")  # type: ignore[arg-type]
    with pytest.raises(NotFound):
        await storage.feedback.add(turn.id + 50, 1, "up")


async def test_moderation_events_list_and_resolve(
    storage: Storage, story: Story, clock: FakeClock
) -> None:
    turn = await storage.turns.add(story.id, model_turn("Something rude."))
    await storage.turns.accept(turn.id, by=30)
    report = await storage.moderation.add(
        GUILD,
        "report",
        "report",
        story_id=story.id,
        turn_id=turn.id,
        user_id=5,
        excerpt="Something rude.",
        verdict={"verdict": "allow", "reasons": ["reported by a user"]},
    )
    clock.advance(1)
    block = await storage.moderation.add(GUILD, "block", "user_input", user_id=6, excerpt="…")
    clock.advance(1)
    fallback = await storage.moderation.add(GUILD, "fallback", "generated", story_id=story.id)
    await storage.moderation.add(GUILD + 1, "block", "character")

    assert report.status == "open" and report.verdict["reasons"] == ["reported by a user"]
    assert await storage.moderation.get(report.id) == report
    opened = await storage.moderation.list_open(GUILD)
    assert [e.id for e in opened] == [fallback.id, block.id, report.id]
    assert [e.id for e in await storage.moderation.list_open(GUILD, limit=1)] == [fallback.id]
    recent = await storage.moderation.list_recent(GUILD, kinds=["report", "block"])
    assert [e.id for e in recent] == [block.id, report.id]
    assert len(await storage.moderation.list_recent(GUILD)) == 3
    assert await storage.moderation.list_recent(GUILD, kinds=[]) == []

    clock.advance(60)
    decided = await storage.moderation.resolve(report.id, by=900, resolution="hidden", note="rude")
    assert (decided.status, decided.resolution, decided.resolved_by) == ("resolved", "hidden", 900)
    assert decided.resolved_at == clock.now and decided.note == "rude"
    hidden = await storage.turns.get(turn.id)
    assert hidden is not None and hidden.hidden and hidden.state == "accepted"
    assert await storage.turns.recent_accepted(story.id) == []

    dismissed = await storage.moderation.resolve(block.id, by=901, resolution="dismissed")
    assert (dismissed.status, dismissed.resolved_by) == ("dismissed", 901)
    assert [e.id for e in await storage.moderation.list_open(GUILD)] == [fallback.id]


async def test_deciding_twice_or_a_missing_event_fails(storage: Storage) -> None:
    event = await storage.moderation.add(GUILD, "redact", "generated")
    await storage.moderation.resolve(event.id, by=1, resolution="dismissed")
    with pytest.raises(Conflict, match="already decided"):
        await storage.moderation.resolve(event.id, by=2, resolution="hidden")
    stored = await storage.moderation.get(event.id)
    assert stored is not None and stored.resolved_by == 1
    with pytest.raises(NotFound):
        await storage.moderation.resolve(event.id + 1, by=2, resolution="hidden")
    with pytest.raises(ValueError):
        await storage.moderation.resolve(event.id, by=2, resolution="banned")  # type: ignore[arg-type]
