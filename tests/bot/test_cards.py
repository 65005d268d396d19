"""Character Card V2 (and V1) import and export, as JSON and PNG, through the engine."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import struct
import threading
import tracemalloc
import zlib

import pytest
from engine_testing import ANN, BEN, CHANNEL, GUILD, FakeGenerator, start_story
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from bot.errors import InvalidInput, ModerationBlocked
from bot.story import StoryEngine
from bot.story.cards import (
    MAX_CARD_BASE64_BYTES,
    MAX_CARD_FILE_BYTES,
    MAX_PNG_CHUNKS,
    read_card,
)

V2_CARD = {
    "spec": "chara_card_v2",
    "spec_version": "2.0",
    "data": {
        "name": "Captain Mira",
        "description": "A sea captain with a silver compass.",
        "personality": "bold, wry",
        "scenario": "Grew up on a lighthouse island.",
        "first_mes": "Ahoy! Mind the rocks.",
        "mes_example": "<START>\n{{char}}: Steady now.",
        "creator_notes": "Made for testing.",
        "system_prompt": "",
        "post_history_instructions": "",
        "alternate_greetings": ["Hello, sailor."],
        "character_book": {"entries": [{"keys": ["compass"], "content": "It points home."}]},
        "tags": ["sea", "captain"],
        "creator": "tester",
        "character_version": "3",
        "extensions": {"other_app": {"colour": "teal"}},
    },
    "unknown_top_level": 42,
}
V1_CARD = {
    "name": "Old Tom",
    "description": "A fisherman.",
    "personality": "gruff",
    "scenario": "Mends nets by the harbour.",
    "first_mes": "Eh?",
    "mes_example": "",
    "talkativeness": "0.4",
}


def json_bytes(card: object) -> bytes:
    return json.dumps(card).encode("utf-8")


def png_with(chunks: dict[str, str]) -> bytes:
    info = PngInfo()
    for key, value in chunks.items():
        info.add_text(key, value)
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 20, 30)).save(out, format="PNG", pnginfo=info)
    return out.getvalue()


def png_card(card: object) -> bytes:
    return png_with({"chara": base64.b64encode(json_bytes(card)).decode("ascii")})


def card_in_png(data: bytes) -> dict:
    image = Image.open(io.BytesIO(data))
    return json.loads(base64.b64decode(image.text["chara"]))


async def test_v2_json_round_trip_keeps_unknown_fields_and_edits(engine: StoryEngine) -> None:
    imported = await engine.character_import(GUILD, ANN, json_bytes(V2_CARD))
    character = imported.character
    assert (character.name, character.backstory, character.first_message) == (
        "Captain Mira",
        "Grew up on a lighthouse island.",
        "Ahoy! Mind the rocks.",
    )
    assert character.tags == ("sea", "captain") and character.imported
    await engine.character_edit(
        GUILD, ANN, "Captain Mira", personality="bold, kind", speech_style="nautical"
    )
    exported = await engine.character_export(GUILD, ANN, "Captain Mira")
    assert exported.filename == "Captain_Mira.json" and exported.media_type == "application/json"
    card = json.loads(exported.data)
    assert card["spec"] == "chara_card_v2" and card["spec_version"] == "2.0"
    assert card["unknown_top_level"] == 42
    data = card["data"]
    assert data["personality"] == "bold, kind"
    assert data["character_book"] == V2_CARD["data"]["character_book"]
    assert data["alternate_greetings"] == ["Hello, sailor."]
    assert data["mes_example"] == V2_CARD["data"]["mes_example"]
    assert data["extensions"] == {
        "other_app": {"colour": "teal"},
        "talewright": {"speech_style": "nautical"},
    }
    assert {k: v for k, v in data.items() if k not in ("personality", "extensions")} == {
        k: v for k, v in V2_CARD["data"].items() if k not in ("personality", "extensions")
    }


async def test_png_round_trip(engine: StoryEngine) -> None:
    await engine.character_import(GUILD, ANN, png_card(V2_CARD))
    exported = await engine.character_export(GUILD, ANN, "captain mira", "png")
    assert exported.data.startswith(b"\x89PNG") and exported.filename == "Captain_Mira.png"
    card = card_in_png(exported.data)
    assert card["data"]["character_book"] == V2_CARD["data"]["character_book"]
    again = read_card(exported.data)
    assert again.name == "Captain Mira" and again.version == 2


async def test_v1_cards_import_and_export_as_v2(engine: StoryEngine) -> None:
    imported = await engine.character_import(GUILD, BEN, png_card(V1_CARD))
    assert imported.character.name == "Old Tom" and imported.character.backstory == (
        "Mends nets by the harbour."
    )
    card = json.loads((await engine.character_export(GUILD, BEN, "Old Tom")).data)
    assert card["spec"] == "chara_card_v2"
    assert card["data"]["talkativeness"] == "0.4" and card["data"]["personality"] == "gruff"
    assert card["data"]["alternate_greetings"] == [] and card["data"]["extensions"] == {}


async def test_a_character_made_here_exports_as_a_valid_card(engine: StoryEngine) -> None:
    await engine.character_create(GUILD, ANN, "Pip", description="a seal", speech_style="squeaky")
    card = json.loads((await engine.character_export(GUILD, ANN, "Pip")).data)
    assert set(card) == {"spec", "spec_version", "data"}
    assert card["data"]["name"] == "Pip" and card["data"]["extensions"] == {
        "talewright": {"speech_style": "squeaky"}
    }
    round_trip = read_card(json.dumps(card).encode())
    assert round_trip.speech_style == "squeaky" and round_trip.description == "a seal"


def itxt_png(keyword: str, text: bytes, compressed: bool) -> bytes:
    """A PNG whose only text chunk is an iTXt chunk (Pillow writes tEXt by default)."""
    body = keyword.encode() + b"\0" + (b"\1\0" if compressed else b"\0\0") + b"\0\0"
    body += zlib.compress(text) if compressed else text
    chunk = struct.pack(">I", len(body)) + b"iTXt" + body
    chunk += struct.pack(">I", zlib.crc32(b"iTXt" + body))
    plain = png_with({})
    return plain[:33] + chunk + plain[33:]


@pytest.mark.parametrize("compressed", [False, True])
def test_itxt_cards_are_read(compressed: bool) -> None:
    data = itxt_png("chara", base64.b64encode(json_bytes(V1_CARD)), compressed)
    assert read_card(data).name == "Old Tom"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "not a JSON object"),
        (json_bytes({"description": "no name"}), "no character name"),
        (json_bytes({"name": "   "}), "no character name"),
        (json_bytes({"spec": "chara_card_v2", "data": "oops"}), "no `data` object"),
        (json_bytes({"spec": "chara_card_v9", "data": {}}), "Unsupported card spec"),
        (json_bytes({"name": "X", "description": 5}), "`description` must be text, not a number"),
        (json_bytes({"name": "X", "tags": "sea"}), "`tags` must be a list"),
        (json_bytes({"name": "X", "extensions": []}), "`extensions` must be an object"),
        (b"\xff\xfe\x00garbage", "neither a PNG nor UTF-8"),
        (png_with({"title": "no card here"}), "no character card in it"),
        (png_with({"chara": "!!! not base64 !!!"}), "not valid base64"),
        (png_with({"chara": base64.b64encode(b"{broken").decode()}), "not valid JSON"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "no character card"),
        (b" " * (MAX_CARD_FILE_BYTES + 1), "too large"),
    ],
)
async def test_malformed_cards_are_refused_clearly(
    engine: StoryEngine, data: bytes, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        await engine.character_import(GUILD, ANN, data)
    assert (await engine.character_list(GUILD)).characters == ()


async def test_imported_cards_pass_moderation(engine: StoryEngine) -> None:
    card = dict(V1_CARD, personality="hates every faggot")
    with pytest.raises(ModerationBlocked):
        await engine.character_import(GUILD, ANN, json_bytes(card))
    assert (await engine.character_list(GUILD)).characters == ()


async def test_dialogue_uses_the_imported_sheet(
    engine: StoryEngine, generator: FakeGenerator
) -> None:
    await engine.character_import(GUILD, ANN, json_bytes(V2_CARD))
    await start_story(engine)
    result = await engine.ai_turn(CHANNEL, ANN, "dialogue", "Captain Mira")
    sheet = generator.requests[-1].context.characters[0]
    assert (sheet.name, sheet.personality, sheet.backstory) == (
        "Captain Mira",
        "bold, wry",
        "Grew up on a lighthouse island.",
    )
    assert result.turn.character_name == "Captain Mira"


# --- hostile cards ------------------------------------------------------------------------

BOMB_INFLATED_BYTES = 64 * 1024 * 1024


def zlib_bomb(inflated_bytes: int) -> bytes:
    """A zlib stream of `inflated_bytes` of "A" (valid base64) at level 9, built a megabyte at a
    time so the test itself stays small: about 1,000:1."""
    deflater = zlib.compressobj(9)
    block = b"A" * (1024 * 1024)
    parts = [deflater.compress(block) for _ in range(inflated_bytes // len(block))]
    return b"".join([*parts, deflater.flush()])


def itxt_png_raw(keyword: str, compressed_text: bytes) -> bytes:
    body = keyword.encode() + b"\0\1\0\0\0" + compressed_text
    chunk = struct.pack(">I", len(body)) + b"iTXt" + body
    chunk += struct.pack(">I", zlib.crc32(b"iTXt" + body))
    plain = png_with({})
    return plain[:33] + chunk + plain[33:]


def test_a_decompression_bomb_is_refused_without_inflating_it() -> None:
    bomb = itxt_png_raw("chara", zlib_bomb(BOMB_INFLATED_BYTES))
    assert len(bomb) < MAX_CARD_FILE_BYTES // 16
    tracemalloc.start()
    try:
        with pytest.raises(InvalidInput, match="too large"):
            read_card(bomb)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 3 * MAX_CARD_BASE64_BYTES, f"peak {peak:,} bytes"


async def test_the_engine_refuses_a_bomb_clearly(engine: StoryEngine) -> None:
    bomb = itxt_png_raw("chara", zlib_bomb(8 * 1024 * 1024))
    with pytest.raises(InvalidInput, match="That card is too large"):
        await engine.character_import(GUILD, ANN, bomb)
    assert (await engine.character_list(GUILD)).characters == ()


def test_a_truncated_compressed_card_is_damaged() -> None:
    whole = zlib.compress(base64.b64encode(json_bytes(V1_CARD)))
    with pytest.raises(InvalidInput, match="cut short"):
        read_card(itxt_png_raw("chara", whole[: len(whole) // 2]))


def test_base64_over_the_limit_is_refused_before_decoding() -> None:
    data = png_with({"chara": "A" * (MAX_CARD_BASE64_BYTES + 4)})
    with pytest.raises(InvalidInput, match="too large"):
        read_card(data)


def test_the_chunk_walk_is_bounded() -> None:
    plain = png_with({})
    empty = struct.pack(">I", 0) + b"zzZz" + struct.pack(">I", zlib.crc32(b"zzZz"))
    card = png_card(V1_CARD)
    text_chunks = card[33 : card.index(b"IDAT") - 4]
    padded = plain[:33] + empty * MAX_PNG_CHUNKS + text_chunks + plain[33:]
    with pytest.raises(InvalidInput, match="no character card"):
        read_card(padded)
    assert read_card(plain[:33] + empty * 100 + text_chunks + plain[33:]).name == "Old Tom"


async def test_an_import_does_not_hold_the_event_loop(
    engine: StoryEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The card is read on a worker thread: the loop keeps serving while it is parsed."""
    parsing, release, parsed = threading.Event(), threading.Event(), threading.Event()

    def slow_read(data: bytes):
        parsing.set()
        release.wait(10)  # on the loop (the bug), nothing can set it
        parsed.set()
        return read_card(data)

    monkeypatch.setattr("bot.story.characters.read_card", slow_read)
    task = asyncio.create_task(engine.character_import(GUILD, ANN, json_bytes(V1_CARD)))
    assert await asyncio.to_thread(parsing.wait, 30)
    loop_ran_during_the_parse = not parsed.is_set()
    release.set()
    assert (await task).character.name == "Old Tom"
    assert loop_ran_during_the_parse


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"name": "X", "deep": ' + "[" * 5000 + "]" * 5000 + "}", "nested more than 64"),
        ('{"name": "X", "deep": ' + "[" * 65 + "]" * 65 + "}", "nested more than 64"),
        ('{"name": "X", "n": ' + "9" * 5000 + "}", "number too long"),
    ],
)
async def test_hostile_json_is_refused_clearly(
    engine: StoryEngine, text: str, message: str
) -> None:
    with pytest.raises(InvalidInput, match=f"That card is not valid: .*{message}"):
        await engine.character_import(GUILD, ANN, text.encode())
    assert (await engine.character_list(GUILD)).characters == ()
