"""A guild's link policy: by default links are refused in titles and names and allowed in story
text; `block` refuses them everywhere, `allow` nowhere; the setting is stored."""

from __future__ import annotations

import pytest
from engine_testing import ANN, CHANNEL, GUILD, start_story

from bot.errors import InvalidInput, ModerationBlocked
from bot.story import StoryEngine

LINK = "[free nitro](https://evil.example/x)"


async def set_links(engine: StoryEngine, policy: str) -> None:
    await engine.mod_settings_set(GUILD, ANN, is_moderator=True, links=policy)


async def test_by_default_titles_and_names_refuse_links_and_turns_keep_them(
    engine: StoryEngine,
) -> None:
    with pytest.raises(InvalidInput, match="The story's title cannot hold a link on this server"):
        await start_story(engine, title=f"Win {LINK}")
    await start_story(engine)
    with pytest.raises(InvalidInput, match="The title cannot hold a link"):
        await engine.settings(CHANNEL, ANN, title="see www.evil.example/x")
    with pytest.raises(InvalidInput, match="The character's name cannot hold a link"):
        await engine.character_create(GUILD, ANN, "https://evil.example", description="A trick.")
    wrote = await engine.write(CHANNEL, ANN, "Ann", f"The map said {LINK}.")
    assert LINK in wrote.turn.text
    assert (await engine.mod_settings(GUILD)).link_policy == "turns"


async def test_block_refuses_links_in_turns_and_allow_lets_titles_have_them(
    engine: StoryEngine,
) -> None:
    await set_links(engine, "block")
    assert (await engine.mod_settings(GUILD)).link_policy == "block"
    await start_story(engine)
    with pytest.raises(ModerationBlocked, match="do not allow links"):
        await engine.write(CHANNEL, ANN, "Ann", "Go to https://evil.example now.")
    await engine.write(CHANNEL, ANN, "Ann", "The end.Then the tide turned, e.g. at dawn.")
    await set_links(engine, "allow")
    changed = await engine.settings(CHANNEL, ANN, title=f"Win {LINK}")
    assert changed.story.title == f"Win {LINK}"


async def test_an_unknown_link_policy_is_refused(engine: StoryEngine) -> None:
    with pytest.raises(
        InvalidInput, match="Unknown link policy 'sometimes'; use allow, turns, block"
    ):
        await set_links(engine, "sometimes")
