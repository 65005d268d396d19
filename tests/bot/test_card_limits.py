"""Everything a card stores is moderated; members have a cap on characters and on imports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from engine_testing import ANN, BEN, GUILD, FakeClock

from bot.errors import InvalidInput, ModerationBlocked
from bot.settings import load_settings
from bot.story import EngineOptions, StoryEngine
from bot.story.card_checks import GROUP_CHARS, check_card_texts
from bot.story.guard import rules_from_settings
from storage.models import GuildSettings

CARD = {
    "spec": "chara_card_v2",
    "spec_version": "2.0",
    "data": {
        "name": "Captain Mira",
        "description": "A sea captain.",
        "mes_example": "<START>\n{{char}}: Steady now.",
        "alternate_greetings": ["Hello, sailor."],
        "character_book": {"entries": [{"keys": ["compass"], "content": "It points home."}]},
        "extensions": {"other_app": {"colour": "teal"}},
    },
}


def card_with(path: tuple[str | int, ...], value: str, key: bool = False) -> bytes:
    """CARD with `value` written at `path` (as a key of the object there, with `key`)."""
    card = json.loads(json.dumps(CARD))
    target = card
    for step in path[:-1]:
        target = target[step]
    if key:
        target[path[-1]][value] = "x"
    else:
        target[path[-1]] = value
    return json.dumps(card).encode()


SLUR = "hates every faggot"


@pytest.mark.parametrize(
    ("path", "key"),
    [
        (("data", "mes_example"), False),
        (("data", "system_prompt"), False),
        (("data", "post_history_instructions"), False),
        (("data", "creator_notes"), False),
        (("data", "alternate_greetings", 0), False),
        (("data", "character_book", "entries", 0, "content"), False),
        (("data", "extensions", "other_app"), True),
        (("unknown_top_level",), False),
    ],
)
async def test_every_stored_field_of_a_card_is_moderated(
    engine: StoryEngine, path: tuple[str | int, ...], key: bool
) -> None:
    with pytest.raises(ModerationBlocked, match="A field of that card was refused"):
        await engine.character_import(GUILD, ANN, card_with(path, SLUR, key))
    assert (await engine.character_list(GUILD)).characters == ()


async def test_redactions_reach_the_stored_and_exported_card(engine: StoryEngine) -> None:
    imported = await engine.character_import(
        GUILD, ANN, card_with(("data", "alternate_greetings", 0), "shit happens")
    )
    assert "Some words in the card's other fields were hidden." in imported.notices
    exported = json.loads((await engine.character_export(GUILD, ANN, "Captain Mira")).data)
    assert exported["data"]["alternate_greetings"] == ["████ happens"]
    assert exported["data"]["character_book"] == CARD["data"]["character_book"]
    stored = await engine.storage.characters.get_by_name(GUILD, "Captain Mira")
    assert stored is not None and "shit" not in stored.card_json


def test_many_strings_are_checked_in_groups(engine: StoryEngine) -> None:
    """A clean card costs a few checks however many strings it has; a bad string is found."""
    calls: list[int] = []
    guard = engine.guard
    check_many = guard.check_many

    def counting(texts, rules):
        calls.append(len(texts))
        return check_many(texts, rules)

    guard.check_many = counting  # type: ignore[method-assign]
    rules = rules_from_settings(GuildSettings(guild_id=GUILD), "teen")
    texts = [f"line {i} of the lorebook" for i in range(5000)]
    assert check_card_texts(guard, texts, rules) == (None, {})
    assert calls[0] <= 2 * sum(map(len, texts)) // GROUP_CHARS + 1 and calls[1] == 0
    blocked, _ = check_card_texts(guard, [*texts, SLUR], rules)
    assert blocked is not None and blocked.blocked


@pytest.fixture
def capped(storage, generator, moderator, clock: FakeClock) -> StoryEngine:
    options = EngineOptions(max_characters_per_user=2, card_imports_per_window=3)
    return StoryEngine(storage, generator, moderator, options, clock=clock)


async def test_a_member_keeps_at_most_the_cap(capped: StoryEngine) -> None:
    await capped.character_create(GUILD, ANN, "One")
    await capped.character_import(GUILD, ANN, json.dumps({"name": "Two"}).encode())
    with pytest.raises(InvalidInput, match="already have 2 characters here"):
        await capped.character_create(GUILD, ANN, "Three")
    with pytest.raises(InvalidInput, match="already have 2 characters here"):
        await capped.character_import(GUILD, ANN, json.dumps({"name": "Four"}).encode())
    assert (await capped.character_create(GUILD, BEN, "Three")).character.name == "Three"
    await capped.character_create(GUILD + 1, ANN, "Elsewhere")
    await capped.character_delete(GUILD, ANN, "One")
    assert (await capped.character_create(GUILD, ANN, "Three")).character.name == "Three"
    assert [c.name for c in (await capped.character_list(GUILD, ANN)).characters] == [
        "Three",
        "Two",
    ]


async def test_imports_are_rate_limited_per_member(capped: StoryEngine, clock: FakeClock) -> None:
    for attempt in range(3):
        with pytest.raises(InvalidInput, match="not valid JSON"):
            await capped.character_import(GUILD, ANN, b"{broken %d" % attempt)
    with pytest.raises(InvalidInput, match="imported 3 cards recently; try again in 10 minutes"):
        await capped.character_import(GUILD, ANN, json.dumps({"name": "Pip"}).encode())
    assert (
        await capped.character_import(GUILD, BEN, json.dumps({"name": "Pip"}).encode())
    ).notices == ()
    clock.advance(599)
    with pytest.raises(InvalidInput, match="try again in a minute"):
        await capped.character_import(GUILD, ANN, json.dumps({"name": "Pip"}).encode())
    clock.advance(1)
    imported = await capped.character_import(GUILD, ANN, json.dumps({"name": "Pip"}).encode())
    assert imported.character.name == "Pip"


def test_the_limits_are_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    example = Path(__file__).parents[2] / "config.example.toml"
    monkeypatch.setenv("TALEWRIGHT_BOT__MAX_CHARACTERS_PER_USER", "7")
    options = EngineOptions.from_settings(load_settings(example))
    assert options.max_characters_per_user == 7
    assert (options.card_imports_per_window, options.card_import_window_s) == (10, 600.0)
