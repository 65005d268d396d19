"""TinyStories sources -> stories.txt and extra_lowercased_stories.txt (data README, section 1).

Each source is parsed by its own layout, every story normalised (mojibake repair, NFC, ASCII
quotes, one line per paragraph), short records dropped, and stories deduplicated on a key of
lower-case letters and digits, in source order, so a later copy of a story (in other casing,
quoting or wrapping) never adds it twice. The held-out removal of the reference build cannot be
repeated here: its list is not public.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

SEPARATOR = "<|endoftext|>"
MAX_RESEGMENTED_CHARS = 2500
_OPENER = re.compile(
    r"^(Once upon a time|Once there (was|were|lived)|One day, (a|the) (little )?(girl|boy)"
    r"|There (was|once was) (a|an) )",
    re.I,
)
_QUOTES = str.maketrans(
    {
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\t": " ",
        "\u00a0": " ",
    }
)
_CP1252_EXTRA = {
    ch: byte
    for byte in range(0x80, 0xA0)
    if (ch := bytes([byte]).decode("cp1252", errors="ignore"))
}
_CONTINUATION = "".join(_CP1252_EXTRA) + "".join(map(chr, range(0x80, 0xC0)))
_MOJIBAKE = re.compile(f"[\u00c2-\u00f4][{re.escape(_CONTINUATION)}]{{1,3}}")
_SPACES = re.compile(r" {2,}")


class LayoutError(ValueError):
    """A source file does not have the layout the manifest names."""


def repair_mojibake(text: str) -> str:
    """Undo UTF-8 that was read as cp1252 (`â€œ` -> `“`), leaving real accented text alone."""

    def fix(match: re.Match[str]) -> str:
        chunk = match.group(0)
        try:
            raw = bytes(_CP1252_EXTRA.get(ch, ord(ch)) for ch in chunk)
            return raw.decode("utf-8")
        except (UnicodeDecodeError, ValueError):
            return chunk

    return _MOJIBAKE.sub(fix, text)


def normalize_story(text: str) -> str:
    text = repair_mojibake(text.replace("\r\n", "\n").replace("\r", "\n"))
    text = unicodedata.normalize("NFC", text).translate(_QUOTES).replace("\u2026", "...")
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def dedup_key(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isascii() and ch.isalnum())


def parse(raw: bytes, layout: str) -> list[str]:
    """The raw records of one source file, before normalisation."""
    text = raw.decode("utf-8-sig").replace("\r\n", "\n").replace("\r", "\n")
    try:
        return _PARSERS[layout](text)
    except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
        raise LayoutError(f"not {layout} layout: {type(exc).__name__}: {exc}") from exc


def _endoftext(text: str) -> list[str]:
    return [r for r in (part.strip("\n") for part in text.split(SEPARATOR)) if r.strip()]


def _endoftext_truncated(text: str) -> list[str]:
    """A byte-truncated file: whatever follows the last separator is a partial story."""
    return _endoftext(text.rsplit(SEPARATOR, 1)[0]) if SEPARATOR in text else []


def _json_texts(text: str) -> list[str]:
    return [str(t) for t in json.loads(text)["texts"]]


def _json_list(text: str) -> list[str]:
    data = json.loads(text)
    if isinstance(data, dict):
        data = next(v for v in data.values() if isinstance(v, list))
    return [item if isinstance(item, str) else item.get("story") or item["text"] for item in data]


def _hf_rows(text: str) -> list[str]:
    return [row["row"]["text"] for row in json.loads(text)["rows"]]


def _lines(text: str) -> list[str]:
    return [line for line in text.split("\n") if line.strip()]


def _hf_export(text: str) -> list[str]:
    """A single newline ends a story; a blank line separates paragraphs of the same story."""
    stories: list[list[str]] = [[]]
    lines = text.split("\n")
    for index, line in enumerate(lines):
        if not line.strip():
            continue
        stories[-1].append(line)
        following = lines[index + 1] if index + 1 < len(lines) else ""
        if following.strip():
            stories.append([])
    return ["\n".join(s) for s in stories if s]


def _resegment(text: str) -> list[str]:
    """Text that lost its story boundaries, cut again before every story-opening line."""
    segments: list[list[str]] = [[]]
    for line in text.split("\n"):
        if _OPENER.match(line.strip()):
            segments.append([])
        segments[-1].append(line)
    return [
        joined
        for segment in segments
        if segment
        and _OPENER.match(segment[0].strip())
        and len(joined := "\n".join(segment).strip("\n")) <= MAX_RESEGMENTED_CHARS
    ]


_PARSERS = {
    "endoftext": _endoftext,
    "endoftext_truncated": _endoftext_truncated,
    "json_texts": _json_texts,
    "json_list": _json_list,
    "hf_rows": _hf_rows,
    "lines": _lines,
    "hf_export": _hf_export,
    "resegment": _resegment,
}


@dataclass
class SourceTally:
    """Per-source counts, compared with the reference build's in the report."""

    label: str
    parsed: int = 0
    kept: int = 0
    expected_parsed: int = 0
    expected_kept: int = 0


class Deduplicator:
    """Keeps a story unless its key was seen or lies inside a kept story's key (a fragment).

    Kept keys are indexed by their `GRAM`-character pieces at every `STRIDE`-th offset; a
    fragment of a kept key shares one of those pieces at one of its first `STRIDE` offsets.
    """

    GRAM = 32
    STRIDE = 16

    def __init__(self) -> None:
        self.keys: set[str] = set()
        self._kept: list[str] = []
        self._index: dict[str, list[int]] = {}

    def add(self, story: str) -> bool:
        key = dedup_key(story)
        if not key or key in self.keys or self._is_fragment(key):
            return False
        self.keys.add(key)
        number = len(self._kept)
        self._kept.append(key)
        for offset in range(0, len(key) - self.GRAM + 1, self.STRIDE):
            self._index.setdefault(key[offset : offset + self.GRAM], []).append(number)
        return True

    def _is_fragment(self, key: str) -> bool:
        if len(key) < self.GRAM + self.STRIDE:
            return any(key in kept for kept in self._kept)
        for offset in range(self.STRIDE):
            for number in self._index.get(key[offset : offset + self.GRAM], ()):
                if key in self._kept[number]:
                    return True
        return False


def build(
    parsed_sources: Iterable[tuple[str, str, int, list[str]]], dedup: Deduplicator
) -> tuple[list[str], list[SourceTally]]:
    """(label, target, min_chars, records) per source, in order -> kept stories and tallies."""
    stories: list[str] = []
    tallies = []
    for label, _target, min_chars, records in parsed_sources:
        tally = SourceTally(label, parsed=len(records))
        for record in records:
            story = normalize_story(record)
            if len(story) >= min_chars and dedup.add(story):
                stories.append(story)
                tally.kept += 1
        tallies.append(tally)
    return stories, tallies


def render(stories: list[str]) -> bytes:
    return "".join(f"{story}\n{SEPARATOR}\n" for story in stories).encode("utf-8")


def count_records(data: bytes) -> int:
    return data.decode("utf-8").count(f"\n{SEPARATOR}\n")
