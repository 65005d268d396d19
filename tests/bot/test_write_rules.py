"""Table manners in the engine: who may write as a character, and who may write past a model
turn someone else asked for (bot/story/table.py)."""

from __future__ import annotations

import pytest
from engine_testing import ANN, BEN, CAT, CHANNEL, GUILD, FakeClock, start_story

from bot.errors import PermissionDenied, TurnInProgress
from bot.story import EngineOptions, StoryEngine

HOLD = EngineOptions().pending_turn_hold_s


async def texts(engine: StoryEngine) -> list[str]:
    return [turn.text for turn in (await engine.show(channel_id=CHANNEL)).turns]


# --- voicing characters -------------------------------------------------------------------


async def test_only_its_player_writes_as_a_played_character(engine: StoryEngine) -> None:
    await start_story(engine)
    await engine.join(CHANNEL, CAT, "Carol")
    await engine.join(CHANNEL, BEN, "Bob")
    await engine.character_create(GUILD, CAT, "Captain Mira")
    assert (await engine.cast(CHANNEL, CAT, "Captain Mira")).plays_as
    for someone in (BEN, ANN):  # another player, and the story's owner
        with pytest.raises(PermissionDenied, match='Carol plays "Captain Mira"'):
            await engine.write(CHANNEL, someone, "x", '"Aye."', character_name="captain mira")
    assert await texts(engine) == []
    wrote = await engine.write(CHANNEL, CAT, "Carol", '"Hard to port!"', "Captain Mira")
    assert wrote.turn.byline == "Carol as Captain Mira"
    await engine.write(CHANNEL, BEN, "Bob", "Bob watched the captain.")
    assert await texts(engine) == ['"Hard to port!"', "Bob watched the captain."]


async def test_a_shared_character_is_anyones_to_voice(engine: StoryEngine) -> None:
    await start_story(engine)
    await engine.character_create(GUILD, CAT, "Old Gull")
    with pytest.raises(PermissionDenied, match=r"not in this story.*/story cast"):
        await engine.write(CHANNEL, BEN, "Bob", '"Caw."', character_name="Old Gull")
    assert await texts(engine) == []
    cast = await engine.cast(CHANNEL, ANN, "Old Gull")
    assert not cast.plays_as
    wrote = await engine.write(CHANNEL, BEN, "Bob", '"Caw."', character_name="old gull")
    assert wrote.turn.byline == "Bob as Old Gull"


async def test_your_own_character_comes_with_you(engine: StoryEngine) -> None:
    await start_story(engine)
    await engine.character_create(GUILD, BEN, "Pip")
    wrote = await engine.write(CHANNEL, BEN, "Bob", '"Hello!"', character_name="Pip")
    assert wrote.turn.byline == "Bob as Pip"


async def test_a_name_means_the_storys_character_before_the_guilds(engine: StoryEngine) -> None:
    await start_story(engine)
    older = await engine.character_create(GUILD, ANN, "Pip", description="Ann's seal")
    newer = await engine.character_create(GUILD, CAT, "Pip", description="Carol's seal")
    assert older.character.id < newer.character.id
    await engine.storage.characters.link(1, newer.character.id, CAT)
    wrote = await engine.write(CHANNEL, BEN, "Bob", '"Arf."', character_name="Pip")
    assert wrote.turn.character_name == "Pip"
    turn = await engine.storage.turns.get(wrote.turn.id)
    assert turn is not None and turn.character_id == newer.character.id


async def test_a_player_who_left_leaves_a_shared_character(engine: StoryEngine) -> None:
    await start_story(engine)
    await engine.join(CHANNEL, CAT, "Carol")
    await engine.character_create(GUILD, CAT, "Captain Mira")
    await engine.cast(CHANNEL, CAT, "Captain Mira")
    await engine.leave(CHANNEL, CAT)
    wrote = await engine.write(CHANNEL, BEN, "Bob", '"Aye."', character_name="Captain Mira")
    assert wrote.turn.byline == "Bob as Captain Mira"


# --- model turns waiting for Keep ---------------------------------------------------------


async def test_someone_elses_model_turn_waits_for_them(
    engine: StoryEngine, clock: FakeClock
) -> None:
    await start_story(engine)
    await engine.join(CHANNEL, CAT, "Carol")
    asked = await engine.ai_turn(CHANNEL, CAT)
    clock.advance(HOLD - 1)
    with pytest.raises(TurnInProgress, match="Carol's model turn is waiting for Keep or Reroll"):
        await engine.write(CHANNEL, BEN, "Bob", "Bob barges in.")
    still = await engine.pending(CHANNEL)
    assert still is not None and still.id == asked.turn.id
    assert await texts(engine) == []
    assert [p.name for p in (await engine.status(CHANNEL)).story.participants] == ["Ann", "Carol"]
    wrote = await engine.write(CHANNEL, CAT, "Carol", "Carol goes on.")
    assert wrote.auto_kept is not None and wrote.auto_kept.id == asked.turn.id
    assert wrote.auto_kept.byline == "model fake-1, kept by Carol"


async def test_the_owner_may_move_past_a_players_model_turn(engine: StoryEngine) -> None:
    await start_story(engine)
    asked = await engine.ai_turn(CHANNEL, BEN, user_name="Bob")
    wrote = await engine.write(CHANNEL, ANN, "Ann", "Ann moves on.")
    assert wrote.auto_kept is not None and wrote.auto_kept.id == asked.turn.id


async def test_after_the_hold_the_table_moves_on(engine: StoryEngine, clock: FakeClock) -> None:
    await start_story(engine)
    asked = await engine.ai_turn(CHANNEL, CAT, user_name="Carol")
    clock.advance(HOLD - 10)
    rerolled = await engine.reroll(asked.turn.id, ANN)  # a new alternative: a fresh hold
    clock.advance(20)
    with pytest.raises(TurnInProgress, match=r"Carol's model turn .*\(or in 2 minutes"):
        await engine.write(CHANNEL, BEN, "Bob", "Too soon.")
    clock.advance(HOLD)
    wrote = await engine.write(CHANNEL, BEN, "Bob", "Bob moves on.")
    assert wrote.auto_kept is not None and wrote.auto_kept.id == rerolled.turn.id


async def test_the_holder_of_a_round_robin_turn_may_move_on(engine: StoryEngine) -> None:
    await start_story(engine, mode="round_robin")
    await engine.join(CHANNEL, BEN, "Bob")
    asked = await engine.ai_turn(CHANNEL, ANN)
    wrote = await engine.write(CHANNEL, BEN, "Bob", "My turn now.")
    assert wrote.auto_kept is not None and wrote.auto_kept.id == asked.turn.id


async def test_no_hold_is_the_old_table(storage, generator, moderator, clock) -> None:
    engine = StoryEngine(
        storage, generator, moderator, EngineOptions(pending_turn_hold_s=0), clock=clock
    )
    await start_story(engine)
    asked = await engine.ai_turn(CHANNEL, CAT, user_name="Carol")
    wrote = await engine.write(CHANNEL, BEN, "Bob", "Bob moves on.")
    assert wrote.auto_kept is not None and wrote.auto_kept.id == asked.turn.id


# --- the same rules when a player asks the model ------------------------------------------


async def test_asking_the_model_waits_for_someone_elses_model_turn(
    engine: StoryEngine, clock: FakeClock
) -> None:
    await start_story(engine)
    asked = await engine.ai_turn(CHANNEL, CAT, user_name="Carol")
    clock.advance(HOLD - 1)
    with pytest.raises(TurnInProgress, match="Carol's model turn is waiting for Keep or Reroll"):
        await engine.ai_turn(CHANNEL, BEN, user_name="Bob")
    still = await engine.pending(CHANNEL)
    assert still is not None and still.id == asked.turn.id
    mine = await engine.ai_turn(CHANNEL, CAT, user_name="Carol")
    assert mine.auto_kept is not None and mine.auto_kept.id == asked.turn.id


async def test_the_model_speaks_as_a_played_character_only_for_its_player(
    engine: StoryEngine,
) -> None:
    await start_story(engine)
    await engine.join(CHANNEL, CAT, "Carol")
    await engine.character_create(GUILD, CAT, "Captain Mira")
    await engine.cast(CHANNEL, CAT, "Captain Mira")
    with pytest.raises(PermissionDenied, match='Carol plays "Captain Mira"'):
        await engine.ai_turn(CHANNEL, BEN, "dialogue", "Captain Mira", user_name="Bob")
    assert await engine.pending(CHANNEL) is None
    line = await engine.ai_turn(CHANNEL, CAT, "dialogue", "Captain Mira", user_name="Carol")
    assert line.turn.character_name == "Captain Mira"
