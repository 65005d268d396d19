"""Characters, moderators' tools and style profiles through the engine."""

from __future__ import annotations

import pytest
from engine_testing import ANN, BEN, CAT, CHANNEL, GUILD, FakeClock, FakeGenerator, start_story

from bot.errors import InvalidInput, PermissionDenied, UnknownCharacter
from bot.story import EngineOptions, StoryEngine
from bot.story.style import StoredStyle

# --- characters ---------------------------------------------------------------------------


async def test_character_sheets_belong_to_their_owner(engine: StoryEngine) -> None:
    created = await engine.character_create(
        GUILD, ANN, "Marta", description="keeper", tags=["Sea", "sea", " old "]
    )
    assert created.character.tags == ("Sea", "old")
    with pytest.raises(PermissionDenied, match="belongs to someone else"):
        await engine.character_edit(GUILD, BEN, "Marta", description="mine now")
    with pytest.raises(PermissionDenied):
        await engine.character_delete(GUILD, BEN, "Marta")
    edited = await engine.character_edit(GUILD, BEN, "marta", is_moderator=True, name="Marta Vell")
    assert edited.character.name == "Marta Vell" and edited.character.description == "keeper"
    with pytest.raises(InvalidInput, match="Unknown character field"):
        await engine.character_edit(GUILD, ANN, "Marta Vell", colour="blue")
    deleted = await engine.character_delete(GUILD, ANN, "Marta Vell")
    assert deleted.name == "Marta Vell"
    with pytest.raises(UnknownCharacter):
        await engine.character_show(GUILD, "Marta Vell")


async def test_show_prefers_your_own_character(engine: StoryEngine) -> None:
    await engine.character_create(GUILD, ANN, "Pip", description="Ann's seal")
    await engine.character_create(GUILD, BEN, "Pip", description="Ben's seal")
    assert (await engine.character_show(GUILD, "pip", BEN)).character.description == "Ben's seal"
    assert (await engine.character_show(GUILD, "pip", CAT)).character.description == "Ann's seal"


async def test_cast_and_uncast(engine: StoryEngine, generator: FakeGenerator) -> None:
    await start_story(engine)
    await engine.join(CHANNEL, BEN, "Ben")
    await engine.character_create(GUILD, BEN, "Pip", personality="curious")
    await engine.character_create(GUILD, ANN, "Gull")
    cast = await engine.cast(CHANNEL, BEN, "Pip")
    assert cast.added and cast.plays_as
    assert [(p.name, p.character_name) for p in cast.story.participants] == [
        ("Ann", None),
        ("Ben", "Pip"),
    ]
    not_own = await engine.cast(CHANNEL, BEN, "Gull")
    assert not not_own.plays_as
    await engine.ai_turn(CHANNEL, ANN)
    assert [c.name for c in generator.requests[-1].context.characters] == ["Pip", "Gull"]
    with pytest.raises(PermissionDenied):
        await engine.uncast(CHANNEL, CAT, "Pip")
    removed = await engine.uncast(CHANNEL, BEN, "Pip")
    assert not removed.added and removed.story.participants[1].character_name is None
    with pytest.raises(UnknownCharacter, match="not in this story"):
        await engine.uncast(CHANNEL, ANN, "Pip")


async def test_writing_as_a_character(engine: StoryEngine) -> None:
    await start_story(engine)
    await engine.character_create(GUILD, ANN, "Marta")
    wrote = await engine.write(CHANNEL, ANN, "Ann", '"Who goes there?"', character_name="marta")
    assert wrote.turn.byline == "Ann as Marta" and wrote.turn.kind == "dialogue"


# --- moderation ---------------------------------------------------------------------------


async def test_report_queue_and_hide(engine: StoryEngine) -> None:
    await start_story(engine)
    wrote = await engine.write(CHANNEL, BEN, "Ben", "A rude but allowed line.")
    await engine.write(CHANNEL, ANN, "Ann", "A nice line.")
    report = await engine.report_turn(wrote.turn.id, CAT, "not nice")
    assert report.event is not None and report.event.reasons == ("not nice",)
    again = await engine.report_turn(wrote.turn.id, CAT)
    assert again.event is None
    with pytest.raises(PermissionDenied, match="Only moderators"):
        await engine.mod_queue(GUILD, is_moderator=False)
    queue = await engine.mod_queue(GUILD, is_moderator=True)
    assert [(e.kind, e.turn_id, e.excerpt) for e in queue.events] == [
        ("report", wrote.turn.id, "A rude but allowed line.")
    ]
    with pytest.raises(PermissionDenied):
        await engine.mod_resolve(report.event.id, BEN, "hide", is_moderator=False)
    resolved = await engine.mod_resolve(report.event.id, ANN, "hide", is_moderator=True)
    assert resolved.resolution == "hidden"
    assert [t.text for t in (await engine.show(channel_id=CHANNEL)).turns] == ["A nice line."]
    assert "A rude but allowed line." not in (await engine.export(channel_id=CHANNEL)).markdown
    with pytest.raises(InvalidInput, match="already decided"):
        await engine.mod_resolve(report.event.id, ANN, "dismiss", is_moderator=True)
    assert (await engine.mod_queue(GUILD, is_moderator=True)).events == ()


async def test_guild_moderation_settings(engine: StoryEngine) -> None:
    shown = await engine.mod_settings(GUILD)
    assert (shown.level, shown.saved) == ("teen", False)
    with pytest.raises(PermissionDenied):
        await engine.mod_settings_set(GUILD, BEN, is_moderator=False, level="family")
    changed = await engine.mod_settings_set(
        GUILD, ANN, is_moderator=True, level="mature", block=["Frak", "toaster"], exempt=["dick"]
    )
    assert changed.level == "mature" and changed.saved
    assert changed.blocked_terms == {"*": ["frak", "toaster"]}
    assert changed.exempt_terms == {"*": ["dick"]}
    by_category = await engine.mod_settings_set(
        GUILD, ANN, is_moderator=True, block=["grawlix"], category="profanity"
    )
    assert by_category.blocked_terms == {"*": ["frak", "toaster"], "profanity": ["grawlix"]}
    with pytest.raises(InvalidInput, match="cannot be used"):
        await engine.mod_settings_set(GUILD, ANN, is_moderator=True, block=["b4d w0rd!"])
    with pytest.raises(InvalidInput, match="Unknown moderation level"):
        await engine.mod_settings_set(GUILD, ANN, is_moderator=True, level="adult")
    assert (await engine.mod_settings(GUILD)).blocked_terms == by_category.blocked_terms


async def test_exempt_words_pass(engine: StoryEngine) -> None:
    await engine.mod_settings_set(GUILD, ANN, is_moderator=True, level="family", exempt=["dick"])
    await start_story(engine)
    wrote = await engine.write(CHANNEL, ANN, "Ann", "Dick ran home.")
    assert wrote.turn.text == "Dick ran home."


# --- style --------------------------------------------------------------------------------


class RecordingStyle:
    """A StyleMemory that remembers what it saw and has a fixed vector for Ann."""

    def __init__(self) -> None:
        self.seen: list[tuple[int, str, str, str | None]] = []

    async def observe(
        self, user_id: int, text: str, genre: str, character_name: str | None
    ) -> None:
        self.seen.append((user_id, text, genre, character_name))

    async def vector(self, user_id: int) -> list[float] | None:
        return [0.5, -0.5] if user_id == ANN else None


async def test_style_memory_sees_human_turns_and_shapes_requests(
    storage, moderator, clock: FakeClock
) -> None:
    style = RecordingStyle()
    generator = FakeGenerator()
    engine = StoryEngine(storage, generator, moderator, style=style, clock=clock)
    await start_story(engine)
    await storage.privacy.set_guild_default(GUILD, True)  # style memory is opt-in
    await engine.write(CHANNEL, ANN, "Ann", "Ann writes.")
    await engine.ai_turn(CHANNEL, ANN)
    assert style.seen == [(ANN, "Ann writes.", "fantasy_adventure", None)]
    assert generator.requests[-1].context.style_vector is None
    await engine.settings(CHANNEL, ANN, style_matching=True)
    await engine.ai_turn(CHANNEL, ANN)
    request = generator.requests[-1]
    assert request.context.style_vector == [0.5, -0.5] and request.params.rerank == "style"
    await engine.ai_turn(CHANNEL, ANN)
    clock.advance(EngineOptions().pending_turn_hold_s)
    await engine.write(CHANNEL, BEN, "Ben", "Ben writes.")
    assert len(style.seen) == 2


async def test_a_failing_style_memory_never_costs_a_turn(storage, moderator, clock) -> None:
    class Broken(RecordingStyle):
        async def observe(self, *args: object) -> None:
            raise RuntimeError("encoder crashed")

    engine = StoryEngine(storage, FakeGenerator(), moderator, style=Broken(), clock=clock)
    await start_story(engine)
    wrote = await engine.write(CHANNEL, ANN, "Ann", "Still stored.")
    assert wrote.turn.text == "Still stored."


async def test_style_profile_show_set_forget(storage, moderator, clock: FakeClock) -> None:
    generator = FakeGenerator()
    engine = StoryEngine(
        storage, generator, moderator, style=StoredStyle(storage.styles), clock=clock
    )
    assert (await engine.style_show(ANN)).stats == {}
    await start_story(engine)
    await engine.privacy_style(ANN, GUILD, True, change=True)  # style memory is opt-in
    await engine.write(CHANNEL, ANN, "Ann", 'The sea rose. "Run!" said Marta.')
    view = await engine.style_show(ANN)
    assert view.stats["turns"] == 1 and view.stats["dialogue_turns"] == 1
    assert view.stats["genres"] == {"fantasy_adventure": 1} and not view.has_vector
    updated = await engine.style_set(ANN, length="short", temperature="0.5")
    assert updated.preferences == {"length": "short", "temperature": 0.5}
    await engine.ai_turn(CHANNEL, ANN)
    params = generator.requests[-1].params
    assert params.max_tokens == 42 and params.temperature == 0.5
    assert generator.requests[-1].context.style_hints == {"length": "short", "temperature": 0.5}
    with pytest.raises(InvalidInput, match="temperature"):
        await engine.style_set(ANN, temperature="hot")
    with pytest.raises(InvalidInput, match="Unknown style preference"):
        await engine.style_set(ANN, colour="red")
    await engine.report_turn(1, ANN)
    forgot = await engine.style_forget(ANN)
    assert forgot.deleted == {"style_profiles": 1, "feedback": 1}
    assert (await engine.style_show(ANN)).preferences == {}
