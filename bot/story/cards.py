"""Character Card V2 (`chara_card_v2`) import and export, as JSON or as PNG.

A PNG card carries the card as base64 JSON in a `tEXt` chunk named `chara`; V1 cards are the
same fields at the top level. The card text is stored verbatim with the character, so fields
Talewright does not use (lorebooks, alternate greetings, other apps' extensions) survive an
import/export round trip: export starts from the stored card and writes this project's fields
over it. Field mapping: `scenario` holds the backstory, `first_mes` the first message, and the
speech style lives in `extensions.talewright.speech_style`.

Cards come from strangers, so reading one is bounded in every dimension before any work is
done on it: the file, the PNG chunks walked, the base64 text, the inflated bytes of a
compressed iTXt chunk (a 300 KB "zip bomb" would otherwise inflate to gigabytes), the JSON,
its nesting and its numbers. The engine reads cards on a worker thread, so even the largest
allowed card never stalls other stories.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import struct
import sys
import zlib
from dataclasses import dataclass
from typing import Any

from bot.errors import InvalidInput
from storage.models import Character

SPEC = "chara_card_v2"
SPEC_VERSION = "2.0"
EXTENSION = "talewright"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_CARD_FILE_BYTES = 8 * 1024 * 1024
MAX_CARD_JSON_BYTES = 1024 * 1024
MAX_CARD_BASE64_BYTES = 4 * ((MAX_CARD_JSON_BYTES + 2) // 3)
"""The base64 text of the largest card allowed; longer text is refused before decoding."""
MAX_PNG_CHUNKS = 4096
"""Chunks walked looking for the card: enough for an 8 MB image in 2 KB IDAT chunks."""
MAX_CARD_DEPTH = 64
"""Nesting of objects and lists; real cards use five or six levels."""
_TOO_LARGE = f"That card is too large (over {MAX_CARD_JSON_BYTES:,} bytes of JSON)."

_V2_DEFAULTS: dict[str, Any] = {
    "name": "",
    "description": "",
    "personality": "",
    "scenario": "",
    "first_mes": "",
    "mes_example": "",
    "creator_notes": "",
    "system_prompt": "",
    "post_history_instructions": "",
    "alternate_greetings": [],
    "tags": [],
    "creator": "",
    "character_version": "",
    "extensions": {},
}
_TEXT_KEYS = ("name", "description", "personality", "scenario", "first_mes", "mes_example")


@dataclass(frozen=True, slots=True)
class ImportedCard:
    """The fields Talewright uses, and the card text to store verbatim."""

    name: str
    description: str
    personality: str
    speech_style: str
    backstory: str
    first_message: str
    tags: tuple[str, ...]
    card_json: str
    version: int
    texts: tuple[str, ...] = ()
    """Every string in the card (see `card_texts`)."""


def read_card(data: bytes) -> ImportedCard:
    """Parse a card file (PNG or JSON); InvalidInput says what is wrong with a bad one."""
    if len(data) > MAX_CARD_FILE_BYTES:
        raise InvalidInput(
            f"That card file is too large ({len(data):,} bytes; the limit is "
            f"{MAX_CARD_FILE_BYTES:,})."
        )
    text = _png_card_text(data) if data.startswith(PNG_SIGNATURE) else _decode(data, "card file")
    if len(text.encode("utf-8")) > MAX_CARD_JSON_BYTES:
        raise InvalidInput(_TOO_LARGE)
    card = _parse_json(text)
    if not isinstance(card, dict):
        raise InvalidInput("That card is not a JSON object.")
    if _depth(card) > MAX_CARD_DEPTH:
        raise InvalidInput(
            f"That card is not valid: it is nested more than {MAX_CARD_DEPTH} levels deep."
        )
    fields, version = _card_fields(card)
    extension = fields.get("extensions", {}).get(EXTENSION, {})
    speech = extension.get("speech_style", "") if isinstance(extension, dict) else ""
    if not isinstance(speech, str):
        raise InvalidInput("The card's extensions.talewright.speech_style must be text.")
    return ImportedCard(
        name=fields["name"].strip(),
        description=fields.get("description", ""),
        personality=fields.get("personality", ""),
        speech_style=speech,
        backstory=fields.get("scenario", ""),
        first_message=fields.get("first_mes", ""),
        tags=tuple(fields.get("tags", ())),
        card_json=text,
        version=version,
        texts=card_texts(card),
    )


def card_texts(card: object) -> tuple[str, ...]:
    """Every distinct non-blank string of a parsed card, keys included: what is stored and
    exported, so what moderation must see."""
    found: dict[str, None] = {}
    stack = [card]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str) and item.strip():
            found.setdefault(item)
    return tuple(found)


def replace_texts(card_json: str, replacements: dict[str, str]) -> str:
    """The card text with every string (key or value) in `replacements` swapped for its
    replacement: how moderation's redactions reach the stored card."""

    def swap(item: Any) -> Any:
        if isinstance(item, dict):
            return {replacements.get(k, k): swap(v) for k, v in item.items()}
        if isinstance(item, list):
            return [swap(v) for v in item]
        if isinstance(item, str):
            return replacements.get(item, item)
        return item

    return json.dumps(swap(json.loads(card_json)), ensure_ascii=False)


def card_dict(character: Character) -> dict[str, Any]:
    """The character as a V2 card: its stored card (if imported) with current values written in."""
    data: dict[str, Any] = dict(_V2_DEFAULTS)
    stored = json.loads(character.card_json) if character.card_json else {}
    if stored.get("spec") == SPEC:
        data.update(stored.get("data", {}))
    else:
        data.update({key: value for key, value in stored.items() if key not in ("spec", "data")})
    data.update(
        name=character.name,
        description=character.description,
        personality=character.personality,
        scenario=character.backstory,
        first_mes=character.first_message,
        tags=list(character.tags),
    )
    extensions = dict(data.get("extensions") or {})
    own = dict(extensions.get(EXTENSION) or {})
    if character.speech_style or "speech_style" in own:
        own["speech_style"] = character.speech_style
        extensions[EXTENSION] = own
    data["extensions"] = extensions
    card = {key: value for key, value in stored.items() if key not in ("data", "spec_version")}
    if stored.get("spec") != SPEC:
        card = {}
    return {**card, "spec": SPEC, "spec_version": SPEC_VERSION, "data": data}


def card_json_bytes(character: Character) -> bytes:
    return json.dumps(card_dict(character), ensure_ascii=False, indent=2).encode("utf-8") + b"\n"


def card_png_bytes(character: Character) -> bytes:
    """A PNG card: a plain portrait tile with the name, and the card in its `chara` chunk."""
    from PIL import Image, ImageDraw
    from PIL.PngImagePlugin import PngInfo

    encoded = base64.b64encode(json.dumps(card_dict(character), ensure_ascii=False).encode())
    info = PngInfo()
    info.add_text("chara", encoded.decode("ascii"))
    hue = zlib.crc32(character.name.encode("utf-8"))
    colour = (64 + hue % 128, 64 + (hue >> 8) % 128, 64 + (hue >> 16) % 128)
    image = Image.new("RGB", (400, 600), colour)
    ImageDraw.Draw(image).text((24, 560), character.name[:40], fill=(255, 255, 255))
    out = io.BytesIO()
    image.save(out, format="PNG", pnginfo=info)
    return out.getvalue()


def _card_fields(card: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """The card's data object (V2) or the card itself (V1), checked; and the version."""
    spec = card.get("spec")
    if spec is None:
        fields, version = card, 1
    elif spec == SPEC:
        fields = card.get("data")
        if not isinstance(fields, dict):
            raise InvalidInput("That V2 card has no `data` object.")
        version = 2
    else:
        raise InvalidInput(
            f"Unsupported card spec {spec!r}; Talewright reads chara_card_v2 and V1 cards."
        )
    name = fields.get("name")
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput("That card has no character name (`name` must be non-empty text).")
    for key in _TEXT_KEYS:
        if key in fields and not isinstance(fields[key], str):
            raise InvalidInput(f"The card's `{key}` must be text, not {_kind(fields[key])}.")
    tags = fields.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
        raise InvalidInput("The card's `tags` must be a list of text.")
    extensions = fields.get("extensions", {})
    if not isinstance(extensions, dict):
        raise InvalidInput("The card's `extensions` must be an object.")
    return fields, version


def _png_card_text(data: bytes) -> str:
    """The JSON text in the PNG's `chara` chunk (tEXt, or iTXt, compressed or not)."""
    offset = len(PNG_SIGNATURE)
    for _ in range(MAX_PNG_CHUNKS):
        if offset + 8 > len(data):
            break
        length, kind = struct.unpack(">I4s", data[offset : offset + 8])
        end = offset + 8 + length
        if end > len(data):
            break
        if kind in (b"tEXt", b"iTXt"):
            keyword, _, value = data[offset + 8 : end].partition(b"\0")
            if keyword == b"chara":
                if kind == b"iTXt":
                    value = _itxt_text(value)
                return _decode(_base64(value), "card in the PNG")
        if kind == b"IEND":
            break
        offset = end + 4
    raise InvalidInput(
        "That PNG has no character card in it (no `chara` text chunk); "
        "export the card again from the app that made it."
    )


def _itxt_text(value: bytes) -> bytes:
    """The text of an iTXt chunk, inflated to at most the largest card's base64 text."""
    compressed = value[:1] == b"\1"
    _, _, rest = value[2:].partition(b"\0")  # language tag
    _, _, text = rest.partition(b"\0")  # translated keyword
    if not compressed:
        return text
    inflater = zlib.decompressobj()
    try:
        inflated = inflater.decompress(text, MAX_CARD_BASE64_BYTES + 1)
    except zlib.error as exc:
        raise InvalidInput("The card in that PNG is damaged (bad compressed text).") from exc
    if inflater.unconsumed_tail or len(inflated) > MAX_CARD_BASE64_BYTES:
        raise InvalidInput(_TOO_LARGE)
    if not inflater.eof:
        raise InvalidInput("The card in that PNG is damaged (its compressed text is cut short).")
    return inflated


def _base64(value: bytes) -> bytes:
    value = value.strip()
    if len(value) > MAX_CARD_BASE64_BYTES:
        raise InvalidInput(_TOO_LARGE)
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput("The card in that PNG is not valid base64 text.") from exc


def _parse_json(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            f"That card is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})."
        ) from exc
    except RecursionError as exc:
        raise InvalidInput(
            f"That card is not valid: it is nested more than {MAX_CARD_DEPTH} levels deep."
        ) from exc
    except ValueError as exc:  # an integer of more digits than Python converts
        raise InvalidInput(
            "That card is not valid: it has a number too long to read "
            f"(over {sys.get_int_max_str_digits():,} digits)."
        ) from exc


def _depth(value: object) -> int:
    """How deeply objects and lists nest in a parsed card (without recursing)."""
    deepest = 0
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            deepest = max(deepest, level)
            stack.extend((child, level + 1) for child in item)
    return deepest


def _decode(data: bytes, what: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"That {what} is neither a PNG nor UTF-8 JSON text.") from exc


def _kind(value: object) -> str:
    return {list: "a list", dict: "an object", bool: "true/false", type(None): "null"}.get(
        type(value), "a number"
    )
