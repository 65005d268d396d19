"""Outside failures (database, generator) and moderation refusals: a clear sentence, nothing
partial stored, and a writer's own turn never lost."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest
from engine_testing import ANN, BEN, CHANNEL, GUILD, FakeClock, FakeGenerator, start_story

from bot.errors import (
    DatabaseError,
    GeneratorDown,
    GeneratorTooSlow,
    ModerationBlocked,
)
from bot.story import EngineOptions, StoryEngine
from bot.story.guard import Guard
from generators.errors import GeneratorUnavailable
from generators.schemas import GenerateRequest, GenerateResponse, ModerationVerdict
from storage.errors import DatabaseCorrupt
from storage.models import ANY_CATEGORY, GuildSettings
from storage.sqlite import open_storage


def count(path: Path, table: str) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


async def test_generator_down_keeps_the_written_turn(storage, moderator, clock: FakeClock) -> None:
    down = FakeGenerator(error=GeneratorUnavailable("connection refused"))
    engine = StoryEngine(storage, down, moderator, clock=clock)
    await start_story(engine)
    await engine.write(CHANNEL, ANN, "Ann", "My turn, safe and sound.")
    with pytest.raises(GeneratorDown) as caught:
        await engine.ai_turn(CHANNEL, ANN)
    message = str(caught.value)
    assert "not reachable right now" in message and "your text is safe" in message
    page = await engine.show(channel_id=CHANNEL)
    assert [t.text for t in page.turns] == ["My turn, safe and sound."] and page.pending is None


async def test_generator_down_leaves_the_pending_turn_pending(
    storage, moderator, clock: FakeClock
) -> None:
    generator = FakeGenerator()
    engine = StoryEngine(storage, generator, moderator, clock=clock)
    await start_story(engine)
    first = await engine.ai_turn(CHANNEL, ANN)
    generator.error = GeneratorUnavailable("gone")
    with pytest.raises(GeneratorDown):
        await engine.ai_turn(CHANNEL, ANN)
    with pytest.raises(GeneratorDown):
        await engine.reroll(first.turn.id, ANN)
    waiting = await engine.pending(CHANNEL)
    assert waiting.id == first.turn.id and waiting.alt_count == 1


async def test_a_slow_generator_times_out(storage, moderator, clock: FakeClock) -> None:
    slow = FakeGenerator(delay=5)
    engine = StoryEngine(
        storage, slow, moderator, EngineOptions(generation_timeout_s=0.05), clock=clock
    )
    await start_story(engine)
    await engine.write(CHANNEL, ANN, "Ann", "Still here.")
    with pytest.raises(GeneratorTooSlow, match="took too long"):
        await engine.ai_turn(CHANNEL, ANN)
    assert (await engine.show(channel_id=CHANNEL)).total == 1
    assert await engine.pending(CHANNEL) is None


async def test_an_opening_the_model_cannot_write_still_starts_the_story(
    storage, moderator, clock: FakeClock
) -> None:
    engine = StoryEngine(
        storage, FakeGenerator(error=GeneratorUnavailable("no model")), moderator, clock=clock
    )
    started = await start_story(engine, ai_opening=True)
    assert started.opening is None and started.story.status == "active"
    assert "not reachable" in started.notices[0] and "write the first turn" in started.notices[0]


async def test_a_locked_database_is_a_clear_error_and_writes_nothing(
    db_path: Path, moderator, clock: FakeClock
) -> None:
    storage = await open_storage(db_path, busy_timeout_s=0.05, clock=clock)
    engine = StoryEngine(storage, FakeGenerator(), moderator, clock=clock)
    try:
        await start_story(engine)
        holder = sqlite3.connect(db_path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(DatabaseError, match="busy; nothing was saved"):
                await engine.write(CHANNEL, ANN, "Ann", "Blocked.")
            with pytest.raises(DatabaseError, match="busy"):
                await engine.character_create(GUILD, ANN, "Pip")
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert count(db_path, "turns") == 0 and count(db_path, "characters") == 0
        await engine.write(CHANNEL, ANN, "Ann", "Unblocked.")
        assert count(db_path, "turns") == 1
    finally:
        await storage.close()


async def test_a_read_only_database_is_a_clear_error(
    engine: StoryEngine, storage, db_path: Path
) -> None:
    await start_story(engine)
    async with storage.database.read() as conn:
        await conn.execute("PRAGMA query_only = ON")
    with pytest.raises(DatabaseError, match="nothing was saved"):
        await engine.write(CHANNEL, ANN, "Ann", "Nowhere to go.")
    with pytest.raises(DatabaseError):
        await engine.ai_turn(CHANNEL, ANN)
    assert count(db_path, "turns") == 0


async def test_a_corrupt_database_is_refused_at_open(tmp_path: Path) -> None:
    broken = tmp_path / "broken.db"
    broken.write_bytes(b"this is not a database at all" * 200)
    with pytest.raises(DatabaseCorrupt, match="damaged or is not a database"):
        await open_storage(broken)


async def test_a_blocked_turn_is_not_stored_and_says_why(engine: StoryEngine, storage) -> None:
    await start_story(engine)
    with pytest.raises(ModerationBlocked) as caught:
        await engine.write(CHANNEL, ANN, "Ann", "You faggot.")
    message = str(caught.value)
    assert "contains a slur" in message and "Nothing was saved; edit it" in message
    assert caught.value.reasons == ("contains a slur, which is not allowed at the teen level",)
    assert (await engine.show(channel_id=CHANNEL)).total == 0
    events = await storage.moderation.list_open(GUILD)
    assert [(e.kind, e.source, e.user_id, e.excerpt) for e in events] == [
        ("block", "user_input", ANN, "")
    ]


async def test_profanity_is_hidden_at_teen_and_blocked_at_family(engine: StoryEngine) -> None:
    await start_story(engine)
    hidden = await engine.write(CHANNEL, ANN, "Ann", "What the shit was that?")
    assert hidden.turn.text == "What the ████ was that?"
    assert "Some words were hidden" in hidden.notices[0]
    await engine.mod_settings_set(GUILD, ANN, is_moderator=True, level="family")
    with pytest.raises(ModerationBlocked, match="family level"):
        await engine.write(CHANNEL, ANN, "Ann", "What the shit was that?")


async def test_guild_words_block_with_their_own_reason(engine: StoryEngine) -> None:
    await start_story(engine)
    await engine.mod_settings_set(GUILD, ANN, is_moderator=True, block=["spiders"])
    with pytest.raises(ModerationBlocked) as caught:
        await engine.write(CHANNEL, BEN, "Ben", "The spiders came at night.")
    assert caught.value.reasons == ('uses "spiders", which this server\'s moderators have blocked',)
    await engine.mod_settings_set(GUILD, ANN, is_moderator=True, unblock=["spiders"])
    await engine.write(CHANNEL, BEN, "Ben", "The spiders came at night.")


async def test_a_blocked_character_sheet_is_not_stored(engine: StoryEngine, storage) -> None:
    with pytest.raises(ModerationBlocked, match="That character sheet was refused"):
        await engine.character_create(GUILD, ANN, "Rex", personality="a faggot hater")
    assert (await engine.character_list(GUILD)).characters == ()
    await engine.character_create(GUILD, ANN, "Rex", personality="grumpy")
    with pytest.raises(ModerationBlocked):
        await engine.character_edit(GUILD, ANN, "Rex", backstory="he says faggot")
    assert (await engine.character_show(GUILD, "Rex")).character.backstory == ""
    events = await storage.moderation.list_open(GUILD)
    assert [e.source for e in events] == ["character", "character"]


async def test_candidates_that_trip_the_guild_list_fall_back(
    storage, moderator, clock: FakeClock
) -> None:
    lantern = FakeGenerator(["The lantern glowed.", "A lantern swung."], candidates=2)
    engine = StoryEngine(storage, lantern, moderator, clock=clock)
    await storage.guilds.upsert(GuildSettings(GUILD, blocked_terms={ANY_CATEGORY: ["lantern"]}))
    await start_story(engine, title="The Door", premise="A keeper and the sea")
    result = await engine.ai_turn(CHANNEL, ANN)
    assert len(lantern.requests) == 2
    assert result.fallback and result.turn.fallback
    assert result.turn.text == (
        "For a moment nothing stirred, as if the story itself were holding its breath."
    )
    assert "safe line was used" in result.notices[0]
    events = await storage.moderation.list_recent(GUILD, kinds=["fallback"])
    assert len(events) == 1 and events[0].excerpt == "The lantern glowed."
    assert events[0].verdict["reasons"] == [
        'uses "lantern", which this server\'s moderators have blocked'
    ]


async def test_the_best_passing_candidate_wins(storage, moderator, clock: FakeClock) -> None:
    mixed = FakeGenerator(["The spiders crawled.", "The moon rose."], candidates=2)
    engine = StoryEngine(storage, mixed, moderator, clock=clock)
    await storage.guilds.upsert(GuildSettings(GUILD, blocked_terms={"slurs": ["spiders"]}))
    await start_story(engine)
    result = await engine.ai_turn(CHANNEL, ANN)
    assert result.turn.text == "The moon rose." and not result.fallback
    assert len(mixed.requests) == 1


class SelfModeratingGenerator(FakeGenerator):
    """Answers like a generator whose own moderation blocked every candidate it sampled."""

    async def generate(self, request: GenerateRequest) -> GenerateResponse:
        response = await super().generate(request)
        verdict = ModerationVerdict(verdict="block", reasons=["slurs"], categories=["slurs"])
        return response.model_copy(update={"fallback": True, "moderation": verdict})


async def test_a_fallback_made_by_the_generator_is_logged_too(
    storage, moderator, clock: FakeClock
) -> None:
    safe = SelfModeratingGenerator(["The night held its breath."])
    engine = StoryEngine(storage, safe, moderator, clock=clock)
    await start_story(engine)
    result = await engine.ai_turn(CHANNEL, ANN)
    assert result.fallback and result.turn.text == "The night held its breath."
    events = await storage.moderation.list_recent(GUILD, kinds=["fallback"])
    assert len(events) == 1
    assert events[0].verdict["blocked_by"] == "generator"
    assert events[0].verdict["reasons"] == ["slurs"]


async def test_guild_rules_are_kept_briefly_and_dropped_when_changed(storage, moderator) -> None:
    """Rules are read once per RULES_TTL_S, not before every action; another program's change
    shows after that time, and a change through the engine at once."""
    reads: list[int] = []

    class CountingGuilds:
        async def get(self, guild_id: int) -> GuildSettings:
            reads.append(guild_id)
            return await storage.guilds.get(guild_id)

    now = [100.0]
    guard = Guard(moderator, CountingGuilds(), "teen", rules_ttl_s=5.0, clock=lambda: now[0])
    assert (await guard.rules(GUILD)).policy.level == "teen"
    await guard.rules(GUILD)
    assert reads == [GUILD]
    settings = await storage.guilds.get(GUILD)
    await storage.guilds.upsert(replace(settings, moderation_level="family"))
    now[0] += 4.9
    assert (await guard.rules(GUILD)).policy.level == "teen"
    now[0] += 0.2
    assert (await guard.rules(GUILD)).policy.level == "family"
    await storage.guilds.upsert(replace(settings, moderation_level="mature"))
    guard.forget(GUILD)
    assert (await guard.rules(GUILD)).policy.level == "mature"
    assert reads == [GUILD, GUILD, GUILD]
