"""Character tags are moderated like the other sheet fields (issue 15 item 24): a slur tag is
refused on create, edit and import, and nothing is stored."""

from __future__ import annotations

import pytest
from engine_testing import ANN, GUILD

from bot.errors import ModerationBlocked, UnknownCharacter
from bot.story import StoryEngine


async def test_a_slur_tag_is_refused_on_create(engine: StoryEngine) -> None:
    with pytest.raises(ModerationBlocked):
        await engine.character_create(GUILD, ANN, "Marta", tags=["brave", "f**a**ggot"])
    with pytest.raises(UnknownCharacter):
        await engine.character_show(GUILD, "Marta")


async def test_a_slur_tag_is_refused_on_edit(engine: StoryEngine) -> None:
    await engine.character_create(GUILD, ANN, "Marta", tags=["brave"])
    with pytest.raises(ModerationBlocked):
        await engine.character_edit(GUILD, ANN, "Marta", tags=["a n.i.g.g.e.r"])
    shown = await engine.character_show(GUILD, "Marta", ANN)
    assert shown.character.tags == ("brave",)


async def test_clean_tags_are_kept(engine: StoryEngine) -> None:
    created = await engine.character_create(GUILD, ANN, "Pip", tags=["Scunthorpe", "cockpit"])
    assert created.character.tags == ("Scunthorpe", "cockpit")
