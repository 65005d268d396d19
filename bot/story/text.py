"""Checking what people type before anything else sees it.

Invisible characters are how text smuggles past filters and scrambles how a story reads:
zero-width characters split words for moderation, and bidirectional overrides make a turn
display in an order other than the one it is stored in. Those are removed, and the person is
told; other control characters (a bell, an escape sequence) have no place in a story and are
refused. A zero-width joiner between two emoji is kept, since it is what builds 👩‍🚀.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from bot.errors import InvalidInput

ZERO_WIDTH = "\u200b\u200c\u200d\u2060\u2061\u2062\u2063\u2064\ufeff\u180e"
BIDI_CONTROLS = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_INVISIBLE = re.compile(f"[{ZERO_WIDTH}{BIDI_CONTROLS}]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
"""Unicode's control characters (category Cc) but tab and line feed."""
_JOINER = "\u200d"
_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’)]*(?=\s|$)")
_OPENERS = "\"'“‘("
_TITLES = frozenset({"Mr", "Mrs", "Ms", "Dr", "St", "Capt", "Prof"})


@dataclass(frozen=True, slots=True)
class CleanText:
    text: str
    removed: int
    """How many zero-width or direction-control characters were taken out."""

    @property
    def notice(self) -> str | None:
        """The sentence that tells the writer what was changed, if anything was."""
        if not self.removed:
            return None
        plural = "s" if self.removed != 1 else ""
        return (
            f"Removed {self.removed} invisible character{plural} "
            "(zero-width or text-direction controls)."
        )


def clean_text(
    text: str, max_chars: int, what: str = "Your turn", *, single_line: bool = False
) -> CleanText:
    """The text as it will be stored, or InvalidInput saying what is wrong with it.

    Line endings become `\\n`; leading and trailing whitespace goes; `single_line` (names,
    titles) also refuses line breaks.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    control = _CONTROL.search(text)
    if control is not None:
        raise InvalidInput(
            f"{what} contains a control character (U+{ord(control[0]):04X}) that cannot be "
            "stored; remove it and send it again."
        )
    if single_line and ("\n" in text or "\t" in text):
        raise InvalidInput(f"{what} must fit on one line.")
    removed = 0

    def drop(match: re.Match[str]) -> str:
        nonlocal removed
        if _joins_emoji(text, match.start()):
            return match[0]
        removed += 1
        return ""

    kept = _INVISIBLE.sub(drop, text)
    cleaned = kept.strip()
    if not cleaned:
        raise InvalidInput(f"{what} is empty; write something first.")
    if len(cleaned) > max_chars:
        raise InvalidInput(
            f"{what} is too long: {len(cleaned):,} characters, and the limit is {max_chars:,}. "
            "Shorten it or split it in two."
        )
    return CleanText(cleaned, removed)


def optional_text(
    text: str | None, max_chars: int, what: str, *, single_line: bool = False
) -> CleanText:
    """Like `clean_text`, but blank input is allowed and gives an empty text."""
    if text is None or not text.strip():
        return CleanText("", 0)
    return clean_text(text, max_chars, what, single_line=single_line)


def _joins_emoji(text: str, index: int) -> bool:
    if text[index] != _JOINER or index == 0 or index + 1 >= len(text):
        return False
    return _is_pictographic(text[index - 1]) and _is_pictographic(text[index + 1])


def _is_pictographic(char: str) -> bool:
    # Emoji are symbols (So); skin tones are modifiers (Sk); U+FE0F follows many emoji.
    return unicodedata.category(char) in ("So", "Sk") or char == "\ufe0f"


def first_sentence(text: str, limit: int = 160) -> str:
    """The opening sentence of a turn, for recaps; cut at `limit` characters with an ellipsis.

    A stop inside a quote that a lowercase word follows (`"Who?" asked Pip.`) and a title such
    as `Mr.` do not end the sentence.
    """
    flat = " ".join(text.split())
    for match in _SENTENCE_END.finditer(flat):
        before = flat[: match.start()].rsplit(" ", 1)[-1].strip(_OPENERS)
        after = flat[match.end() :].lstrip()
        if before in _TITLES or (after and after[0].islower()):
            continue
        flat = flat[: match.end()].rstrip()
        break
    if len(flat) > limit:
        return flat[: limit - 1].rstrip() + "…"
    return flat
