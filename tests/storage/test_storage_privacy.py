"""A user's data: the export holds all of it, deleting it leaves nothing that names them (and
keeps the story readable for the others), in one transaction; style memory is opt-in."""

from __future__ import annotations

import json

import pytest
from storage_testing import id_columns, model_turn, query, user_turn

from storage.errors import StorageError
from storage.models import FORMER_USER_ID, FORMER_USER_NAME, Story, StorySettings
from storage.repositories import Storage
from storage.sqlite import privacy

ANN, BEN = 30, 40
CARD = json.dumps({"spec": "chara_card_v2", "data": {"name": "Mira", "mes_example": "secret"}})


async def populate(storage: Storage, story: Story) -> dict[str, int]:
    """Ann (the story's owner) and Ben play together; Ann has every kind of data."""
    mira = await storage.characters.create(10, ANN, "Mira", card_json=CARD)
    pip = await storage.characters.create(10, BEN, "Pip")
    await storage.stories.add_participant(story.id, ANN, "Ann", character_id=mira.id)
    await storage.stories.add_participant(story.id, BEN, "Ben")
    await storage.characters.link(story.id, mira.id, ANN)
    await storage.characters.link(story.id, pip.id, ANN)
    wrote = await storage.turns.add(
        story.id, user_turn("Mira sails.", ANN, character_id=mira.id, character_name="Mira")
    )
    asked = await storage.turns.add(story.id, model_turn("The sea answers.", asked_by=ANN))
    await storage.keep_turn(asked.id, BEN)
    bens = await storage.turns.add(story.id, user_turn("Pip swims.", BEN))
    await storage.turns.accept(bens.id, ANN)
    await storage.feedback.add(bens.id, ANN, "up")
    await storage.feedback.add(wrote.id, BEN, "up")
    await storage.styles.add_vectors(ANN, [[0.5, 0.25]], {"turns": 1})
    await storage.styles.add_vectors(BEN, [[0.1, 0.2]], {"turns": 1})
    await storage.privacy.set_user_choice(ANN, True)
    blocked = await storage.moderation.add(
        10, "block", "user_input", story_id=story.id, user_id=ANN
    )
    reported = await storage.moderation.add(10, "report", "report", turn_id=bens.id, user_id=BEN)
    await storage.moderation.resolve(reported.id, ANN, "dismissed")
    return {"wrote": wrote.id, "asked": asked.id, "bens": bens.id, "blocked": blocked.id}


async def test_export_holds_everything_about_the_user_and_nothing_else(
    storage: Storage, story: Story
) -> None:
    await populate(storage, story)
    data = await storage.export_user(ANN)
    assert [turn.text for turn in data.turns] == ["Mira sails.", "The sea answers."]
    assert [character.card_json for character in data.characters] == [CARD]
    assert [(p.story_id, p.display_name) for p in data.participations] == [(story.id, "Ann")]
    assert data.style is not None and data.style.vector == (0.5, 0.25)
    assert data.style_memory is True
    assert [(f.user_id, f.kind) for f in data.feedback] == [(ANN, "up")]
    assert [event.kind for event in data.moderation_events] == ["block"]


async def test_delete_leaves_nothing_that_names_the_user(storage: Storage, story: Story) -> None:
    ids = await populate(storage, story)
    before = await storage.model_inputs(story.id, BEN, 10)  # fills the context cache
    assert next(turn.author_name for turn in before.context) == "Ann"

    changed = await storage.delete_user(ANN)

    assert changed["characters"] == 1 and changed["turns_anonymised"] == 2
    assert changed["participations"] == 1 and changed["stories_started"] == 1
    empty = await storage.export_user(ANN)
    assert empty.turns == empty.characters == empty.participations == empty.feedback == []
    assert empty.style is None and empty.style_memory is None and empty.moderation_events == []
    for table, columns in {
        "turns": ("author_id", "accepted_by"),
        "stories": ("owner_id",),
        "story_characters": ("added_by",),
        "moderation_events": ("user_id", "resolved_by"),
    }.items():
        for column in columns:
            rows = await query(storage, f"SELECT count(*) FROM {table} WHERE {column} = ?", ANN)
            assert rows[0][0] == 0, f"{table}.{column}"
    cards = await query(storage, "SELECT count(*) FROM characters WHERE card_json = ?", CARD)
    assert cards[0][0] == 0

    # The story still reads the same for Ben, under the former player's byline.
    wrote = await storage.turns.get(ids["wrote"])
    assert wrote is not None and wrote.text == "Mira sails." and wrote.character_name == "Mira"
    assert wrote.author_id is None and wrote.author_name == FORMER_USER_NAME
    after = await storage.model_inputs(story.id, BEN, 10)
    assert [turn.text for turn in after.context] == [
        "Mira sails.",
        "The sea answers.",
        "Pip swims.",
    ]
    assert after.context[0].author_name == FORMER_USER_NAME
    assert [c.name for c in after.characters] == ["Pip"]
    assert (await storage.stories.get(story.id)).owner_id == FORMER_USER_ID
    assert [p.user_id for p in await storage.stories.list_participants(story.id)] == [BEN]
    assert (await storage.styles.get(BEN)) is not None
    assert await storage.feedback.voters(ids["wrote"], "up") == [BEN]
    blocked = await storage.moderation.get(ids["blocked"])
    assert blocked is not None and blocked.user_id is None


async def test_delete_is_one_transaction(
    storage: Storage, story: Story, monkeypatch: pytest.MonkeyPatch
) -> None:
    await populate(storage, story)
    before = await storage.export_user(ANN)
    broken = (*privacy._DELETIONS, ("broken", "DELETE FROM no_such_table"))
    monkeypatch.setattr(privacy, "_DELETIONS", broken)
    with pytest.raises(StorageError):
        await storage.delete_user(ANN)
    assert await storage.export_user(ANN) == before


async def test_style_memory_is_opt_in(storage: Storage) -> None:
    assert await storage.privacy.style_memory(ANN, 10) is False
    await storage.privacy.set_guild_default(10, True)
    assert await storage.privacy.style_memory(ANN, 10) is True
    assert await storage.privacy.style_memory(ANN, 11) is False
    await storage.privacy.set_user_choice(ANN, False)
    assert await storage.privacy.style_memory(ANN, 10) is False
    await storage.privacy.set_user_choice(ANN, True)
    assert await storage.privacy.style_memory(ANN, 11) is True
    await storage.privacy.set_user_choice(ANN, None)
    assert await storage.privacy.user_choice(ANN) is None
    assert await storage.privacy.style_memory(ANN, 11) is False


async def test_no_column_of_any_table_names_a_deleted_user(storage: Storage) -> None:
    """Every table, present and future: after a delete no column holds the user's id. The id
    is one no other row uses, so any match is the user's (a new table that stores user ids
    must be added to the deletion)."""
    someone = 987_654_321
    story = await storage.stories.create(
        guild_id=10,
        channel_id=20,
        owner_id=someone,
        settings=StorySettings(title="Gulls", genre="mystery"),
    )
    await storage.stories.add_participant(story.id, someone, "Zed")
    turn = await storage.turns.add(story.id, user_turn("The gulls cried.", someone))
    await storage.turns.accept(turn.id, someone)
    await storage.edits.edit(turn.id, someone, "The gulls cried out.")
    await storage.forks.fork(
        story.id, turn.slot, channel_id=21, thread_id=None, owner_id=someone, owner_name="Zed"
    )
    await storage.feedback.add(turn.id, someone, "up")
    await storage.moderation.add(10, "block", "user_input", story_id=story.id, user_id=someone)

    await storage.delete_user(someone)

    for table, columns in (await id_columns(storage)).items():
        for column in columns:
            rows = await query(
                storage, f'SELECT count(*) FROM {table} WHERE "{column}" = ?', someone
            )
            assert rows[0][0] == 0, f"{table}.{column} still names the user"
