"""Project Gutenberg plain text -> the book as it sits in the corpus (data README, section 2).

Keeps what lies between the licence header and footer, drops leading production credits and
early paragraphs that point at Project Gutenberg or a URL, strips trailing whitespace and caps
blank-line runs at two. Line wrapping, quotes and italics underscores are left as they are.
"""

from __future__ import annotations

import re

_START = re.compile(
    r"^\s*(\*{3}\s*START OF (THE|THIS) PROJECT GUTENBERG|\*END\*THE SMALL PRINT!)", re.I
)
_END = re.compile(
    r"^\s*(\*{3}\s*END OF (THE|THIS) PROJECT GUTENBERG|End of (the )?Project Gutenberg)", re.I
)
_CREDITS = re.compile(r"^\s*(Produced by|E-?text prepared by)", re.I)
_MENTIONS_PG = re.compile(r"project gutenberg|https?://|www\.", re.I)
_BLANK_RUN = re.compile(r"\n{4,}")
FRONT_LINES = 80
"""Paragraphs starting within this many lines of the top are checked for Gutenberg mentions."""


class GutenbergFormatError(ValueError):
    """The text has no recognisable Project Gutenberg start or end marker."""


def decode_book(raw: bytes, path: str) -> str:
    """Bytes -> text: `N-0.txt` is UTF-8, `N-8.txt` cp1252, plain `N.txt` UTF-8 or else cp1252."""
    if path.endswith("-8.txt"):
        text = _decode_cp1252(raw)
    else:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            if path.endswith("-0.txt"):
                raise
            text = _decode_cp1252(raw)
    text = text.removeprefix("\ufeff")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _decode_cp1252(raw: bytes) -> str:
    """cp1252, with the five bytes it leaves undefined read as Latin-1 (as most readers do)."""
    return "".join(
        chunk.decode("cp1252") if i % 2 == 0 else chunk.decode("latin-1")
        for i, chunk in enumerate(re.split(rb"([\x81\x8d\x8f\x90\x9d]+)", raw))
    )


def strip_licence(text: str) -> str:
    """The lines between the start marker line and the first end marker line."""
    lines = text.split("\n")
    start = next((i for i, line in enumerate(lines) if _START.match(line)), None)
    if start is None:
        raise GutenbergFormatError("no '*** START OF ... PROJECT GUTENBERG' line")
    if lines[start].lstrip().startswith("*END*"):
        # 1990s small print: the marker line may continue to the end of its paragraph.
        while start + 1 < len(lines) and lines[start + 1].strip():
            start += 1
    end = next((i for i in range(start + 1, len(lines)) if _END.match(lines[i])), None)
    if end is None:
        raise GutenbergFormatError("no '*** END OF ...' or 'End of Project Gutenberg' line")
    return "\n".join(lines[start + 1 : end])


def drop_front_matter(text: str) -> str:
    """Drop leading credit paragraphs, then early paragraphs naming Gutenberg or a URL."""
    paragraphs = re.split(r"(\n[ \t]*\n+)", text.strip("\n"))
    kept: list[str] = []
    line = 0
    leading = True
    for index in range(0, len(paragraphs), 2):
        paragraph = paragraphs[index]
        gap = paragraphs[index + 1] if index + 1 < len(paragraphs) else ""
        drop = (leading and _CREDITS.match(paragraph)) or (
            line < FRONT_LINES and _MENTIONS_PG.search(paragraph)
        )
        if not drop:
            leading = False
            kept.extend([paragraph, gap])
        line += paragraph.count("\n") + gap.count("\n")
    return "".join(kept)


def normalize_book(raw: bytes, path: str) -> str:
    """The corpus file for the Gutenberg file `path` whose bytes are `raw`."""
    text = drop_front_matter(strip_licence(decode_book(raw, path)))
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    text = _BLANK_RUN.sub("\n\n\n", text).strip("\n")
    return text + "\n"
