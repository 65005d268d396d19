"""Memory and lorebooks through the engine: who may change them, what the model's request
carries, where each entry stands, and World Info files good and bad."""

from __future__ import annotations

import json

import pytest
from engine_testing import ANN, BEN, CHANNEL, GUILD, FakeGenerator, start_story

from bot.errors import InvalidInput, ModerationBlocked, PermissionDenied
from bot.story import StoryEngine
from bot.story.worldinfo import MAX_BOOK_BYTES

SLUR = "hates every faggot"


def book(*entries: dict) -> bytes:
    return json.dumps({"entries": {str(i): e for i, e in enumerate(entries)}}).encode()


def wi(comment: str, keys: list[str], content: str, **extra) -> dict:
    return {"uid": 0, "key": keys, "keysecondary": [], "comment": comment, "content": content,
            "constant": False, "order": 100, "disable": False, **extra}  # fmt: skip


async def test_memory_is_the_owners_and_reaches_the_request(
    engine: StoryEngine, generator: FakeGenerator
) -> None:
    await start_story(engine)
    with pytest.raises(PermissionDenied):
        await engine.memory_set(CHANNEL, BEN, "Not yours.")
    await engine.memory_set(CHANNEL, BEN, "A moderator may.", is_moderator=True)
    result = await engine.memory_set(CHANNEL, ANN, "Marta is the keeper.")
    assert (await engine.memory_show(CHANNEL)).text == result.text == "Marta is the keeper."
    with pytest.raises(ModerationBlocked):
        await engine.memory_set(CHANNEL, ANN, SLUR)
    await engine.ai_turn(CHANNEL, ANN)
    assert generator.requests[-1].context.memory == "Marta is the keeper."


async def test_a_keyed_entry_reaches_the_request_only_when_mentioned(
    engine: StoryEngine, generator: FakeGenerator
) -> None:
    await start_story(engine)
    await engine.lore_add(GUILD, CHANNEL, ANN, "Door", "door, gate", "The door hums at tide.")
    await engine.lore_add(
        GUILD, CHANNEL, ANN, "Bell", ["bell"], "The bell is cracked.", priority=300
    )
    await engine.write(CHANNEL, ANN, "Ann", "She walked to the old gate and rang the bell.")
    await engine.ai_turn(CHANNEL, ANN)
    assert generator.requests[-1].context.lore == ["The bell is cracked.", "The door hums at tide."]
    listing = await engine.lore_list(GUILD, CHANNEL)
    assert {v.name: v.status for v in listing.entries} == {
        "Bell": "in context",
        "Door": "in context",
    }
    await engine.lore_edit(GUILD, CHANNEL, ANN, "door", keys="portal")
    await engine.ai_turn(CHANNEL, ANN)
    assert generator.requests[-1].context.lore == ["The bell is cracked."]


async def test_entry_rules(engine: StoryEngine) -> None:
    await start_story(engine)
    with pytest.raises(PermissionDenied):
        await engine.lore_add(GUILD, CHANNEL, BEN, "Door", "door", "x")
    with pytest.raises(PermissionDenied, match="moderator"):
        await engine.lore_add(GUILD, CHANNEL, ANN, "Sea", "sea", "x", scope="server")
    await engine.lore_add(
        GUILD, CHANNEL, ANN, "Sea", "sea", "Salt.", scope="server", is_moderator=True
    )
    await engine.lore_add(GUILD, CHANNEL, ANN, "Door", "door", "Old.")
    with pytest.raises(InvalidInput, match="already has an entry"):
        await engine.lore_add(GUILD, CHANNEL, ANN, "DOOR", "door", "Again.")
    with pytest.raises(ModerationBlocked):
        await engine.lore_add(GUILD, CHANNEL, ANN, "Bad", "bad", SLUR)
    with pytest.raises(ModerationBlocked):
        await engine.lore_add(GUILD, CHANNEL, ANN, "Bad", SLUR, "fine")
    with pytest.raises(InvalidInput, match="too long"):
        await engine.lore_add(GUILD, CHANNEL, ANN, "Long", "long", "w" * 2001)
    assert await engine.lore_names(GUILD, CHANNEL, "d") == ["Door"]
    assert (await engine.lore_show(GUILD, CHANNEL, "sea")).entry.scope == "server"
    removed = await engine.lore_remove(GUILD, CHANNEL, ANN, "door")
    assert removed.name == "Door"
    assert [v.name for v in (await engine.lore_list(GUILD, CHANNEL)).entries] == ["Sea"]


async def test_world_info_round_trip(engine: StoryEngine) -> None:
    await start_story(engine)
    data = book(
        wi("Door", ["door"], "The door hums.", order=250),
        wi("", ["tide"], "High water.", constant=True),
        wi("Off", ["off"], "Disabled.", disable=True),
    )
    imported = await engine.lore_import(GUILD, CHANNEL, ANN, data)
    assert (imported.added, imported.replaced, imported.skipped) == (2, 0, 1)
    exported = json.loads((await engine.lore_export(GUILD, CHANNEL)).data)
    entries = sorted(exported["entries"].values(), key=lambda e: e["comment"])
    assert [(e["comment"], e["key"], e["order"], e["constant"]) for e in entries] == [
        ("Door", ["door"], 250, False),
        ("tide", ["tide"], 100, True),
    ]
    again = await engine.lore_import(GUILD, CHANNEL, ANN, json.dumps(exported).encode())
    assert (again.added, again.replaced) == (0, 2)


def nested(depth: int) -> bytes:
    return ('{"entries": {"0": {"extensions": ' + "[" * depth + "]" * depth + "}}}").encode()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"{not json", "not valid JSON"),
        (b"\xff\xfe", "not UTF-8"),
        (b'{"spec": "chara_card_v2"}', "needs an `entries` object"),
        (b"[1, 2]", "needs an `entries` object"),
        (b'{"entries": {"0": "text"}}', "is not an object"),
        (b'{"entries": {"0": {"key": "door", "content": "x"}}}', "`key` must be a list"),
        (b'{"entries": {"0": {"key": ["a"], "content": 5}}}', "`content` must be text"),
        (b'{"entries": {"0": {"key": ["a"], "content": "x", "order": "1"}}}', "whole number"),
        (b'{"entries": {}}', "no enabled entries"),
        (b" " * (MAX_BOOK_BYTES + 1), "too large"),
        (nested(100), "nested more than"),
        (nested(100_000), "nested more than"),
        (book(*[wi(f"E{i}", [f"k{i}"], "x") for i in range(201)]), "at most 200"),
        (book(wi("Long", ["long"], "w" * 2001)), "too long"),
        (book(wi("Keys", [f"k{i}" for i in range(21)], "x")), "too many or too long keys"),
    ],
)
async def test_bad_lorebooks_are_refused_clearly(
    engine: StoryEngine, data: bytes, message: str
) -> None:
    await start_story(engine)
    with pytest.raises(InvalidInput, match=message):
        await engine.lore_import(GUILD, CHANNEL, ANN, data)
    assert (await engine.lore_list(GUILD, CHANNEL)).entries == ()


@pytest.mark.parametrize("where", ["content", "comment", "key", "extension"])
async def test_a_slur_anywhere_refuses_the_lorebook(engine: StoryEngine, where: str) -> None:
    await start_story(engine)
    entry = wi("Door", ["door"], "The door hums.")
    if where == "key":
        entry["key"] = ["door", SLUR]
    elif where == "extension":
        entry["extensions"] = {"note": SLUR}
    else:
        entry[where] = SLUR
    with pytest.raises(ModerationBlocked):
        await engine.lore_import(GUILD, CHANNEL, ANN, book(entry))
    assert (await engine.lore_list(GUILD, CHANNEL)).entries == ()
