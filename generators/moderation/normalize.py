"""Normalization that undoes common evasions while remembering where each character came from.

Matching never runs on the user's raw text. The text is first *folded* character by character
(NFKC, lower case, accents and other combining marks dropped, zero-width and bidi controls
dropped, look-alike letters from other scripts mapped to ASCII), keeping for every folded
character the index of the original character it came from, so that spans and redaction point
at what the user typed. The folded text is then cut into *tokens* (runs of letters, digits and
leetspeak symbols); runs of three or more single characters separated only by punctuation or
spaces (`f.u.c.k`, `f u c k`) become one token, which joins spelled-out words without gluing
ordinary words together (`a sea shell` stays three tokens). A token's *readings* undo leetspeak,
trying every reading of an ambiguous symbol (`1` is `i` or `l`).
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Container
from dataclasses import dataclass

_UPPER_CONFUSABLES = {
    # Capitals that look like a Latin capital but lower-case to a letter that does not.
    "Η": "h",
    "Ν": "n",
    "Μ": "m",
    "Υ": "y",
    "Ζ": "z",
}

_CONFUSABLES = {
    # Cyrillic
    "а": "a", "в": "b", "с": "c", "ԁ": "d", "е": "e", "ё": "e", "һ": "h", "н": "h", "і": "i",
    "ї": "i", "ј": "j", "к": "k", "м": "m", "о": "o", "р": "p", "ԛ": "q", "ѕ": "s", "т": "t",
    "у": "y", "ү": "y", "х": "x", "ԝ": "w", "ь": "b", "ɡ": "g",
    # Greek
    "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p",
    "τ": "t", "υ": "u", "χ": "x", "γ": "y", "ω": "w", "μ": "u", "ς": "s",
    # Latin letters without a decomposition, and small capitals
    "ı": "i", "ȷ": "j", "ɑ": "a", "ø": "o", "đ": "d", "ł": "l", "ħ": "h", "ß": "ss", "æ": "ae",
    "œ": "oe", "ᴀ": "a", "ʙ": "b", "ᴄ": "c", "ᴅ": "d", "ᴇ": "e", "ꜰ": "f", "ɢ": "g", "ʜ": "h",
    "ɪ": "i", "ᴊ": "j", "ᴋ": "k", "ʟ": "l", "ᴍ": "m", "ɴ": "n", "ᴏ": "o", "ᴘ": "p", "ǫ": "q",
    "ʀ": "r", "ꜱ": "s", "ᴛ": "t", "ᴜ": "u", "ᴠ": "v", "ᴡ": "w", "ʏ": "y", "ᴢ": "z",
    "ƅ": "b", "ɓ": "b", "ƈ": "c", "ɗ": "d", "ǝ": "e", "ƒ": "f", "ɦ": "h", "ɩ": "i", "ĸ": "k",
    "ɱ": "m", "ɲ": "n", "ɾ": "r", "ʂ": "s", "ƭ": "t", "ʋ": "v", "ƴ": "y", "ȥ": "z",
    # Currency signs used as letters
    "€": "e", "¢": "c",
}  # fmt: skip

_DROPPED_CATEGORIES = frozenset({"Mn", "Me", "Cf"})  # combining marks, zero-width, bidi controls
_BLANKS = frozenset("\u115f\u1160\u3164\uffa0\u2800")
"""Hangul fillers and the braille blank: letters by category, but rendered as blank space."""
_LETTER_BLOCKS = (
    # Enclosed letters without a compatibility decomposition, and regional indicators (a flag's
    # halves, which Discord shows as boxed letters when they spell no country).
    (0x1F150, 0x1F169),  # negative circled A-Z
    (0x1F170, 0x1F189),  # negative squared A-Z
    (0x1F1E6, 0x1F1FF),  # regional indicators A-Z
)

LEET = {
    "0": ("o",),
    "1": ("i", "l"),
    "3": ("e",),
    "4": ("a",),
    "5": ("s",),
    "6": ("g", "b"),
    "7": ("t",),
    "8": ("b",),
    "9": ("g",),
    "@": ("a", "o"),
    "$": ("s",),
    "!": ("i", ""),
    "|": ("i", "l", ""),
    "+": ("t", ""),
    "v": ("v", "u"),
}
_LEET_AT_START = {"@": ("", "a", "o"), "$": ("s", ""), "!": ("i", ""), "+": ("t", "")}
"""`@john` is a mention, `$hit` is not; `!njun` and `+wat` read their first letter."""
_LEET_AT_END = {"@": ("a", "o", ""), "$": ("s", "")}
_MAX_READINGS = 32

TOKEN = re.compile(r"[!+]?[a-z0-9@$]+(?:[!|+]+[a-z0-9@$]+)*\+?")
"""A word of the folded text: `!`, `|` and `+` count inside a word, and `!` or `+` before a
letter and `+` at the end (`!njun`, `cun+`), so `shit!` ends at t."""
_SEPARATOR = re.compile(r"[\s.,:;\-_*~/\\=+|\"^#]{1,3}")
_ELONGATION = re.compile(r"(.)\1\1+")
_LETTER = re.compile(r"[a-z]")

_fold_cache: dict[str, str] = {}


def _fold_char(char: str) -> str:
    if char in _BLANKS:
        return " "
    code = ord(char)
    for first, last in _LETTER_BLOCKS:
        if first <= code <= last:
            return chr(ord("a") + code - first)
    char = _UPPER_CONFUSABLES.get(char, char)
    compatible = unicodedata.normalize("NFKC", char)
    if len(compatible) == 3 and compatible[0] == "(" and compatible[2] == ")":
        compatible = compatible[1]  # parenthesized letters and digits: ⒡ is (f)
    decomposed = unicodedata.normalize("NFD", compatible.lower())
    return "".join(
        _CONFUSABLES.get(c, c)
        for c in decomposed
        if unicodedata.category(c) not in _DROPPED_CATEGORIES
    )


@dataclass(frozen=True, slots=True)
class Folded:
    """The folded text and, unless it is the identity, each folded character's original index."""

    text: str
    origin: list[int] | None
    original_length: int

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """The original span of folded [start, end), stretched over the dropped characters
        that follow it (combining marks), so that redaction leaves none of them dangling."""
        if self.origin is None:
            return start, end
        after = self.origin[end] if end < len(self.origin) else self.original_length
        return self.origin[start], max(after, self.origin[end - 1] + 1)


def fold(text: str) -> Folded:
    if text.isascii():
        return Folded(text.lower(), None, len(text))
    parts: list[str] = []
    origin: list[int] = []
    cache = _fold_cache
    for index, char in enumerate(text):
        folded = cache.get(char)
        if folded is None:
            folded = cache[char] = _fold_char(char)
        if folded:
            parts.append(folded)
            origin.extend([index] * len(folded))
    return Folded("".join(parts), origin, len(text))


Token = tuple[int, int, str]
"""(start, end, text) of one token in folded coordinates."""


def tokenize(folded: str) -> list[Token]:
    """Tokens of the folded text, with spelled-out runs (`f u c k`) joined into one token."""
    raw = [(m.start(), m.end(), m.group()) for m in TOKEN.finditer(folded)]
    tokens: list[Token] = []
    i, n = 0, len(raw)
    while i < n:
        j = i
        while (
            j + 1 < n
            and raw[j][1] - raw[j][0] == 1
            and raw[j + 1][1] - raw[j + 1][0] == 1
            and _SEPARATOR.fullmatch(folded, raw[j][1], raw[j + 1][0])
        ):
            j += 1
        if j - i >= 2:
            tokens.append((raw[i][0], raw[j][1], "".join(t[2] for t in raw[i : j + 1])))
        else:
            tokens.extend(raw[i : j + 1])
        i = j + 1
    return tokens


LEADING_WORDS = frozenset("aiour")
"""Letters that are words (`a`, `I`, `O`, `u r` for you are): a spelled-out run may start with
them (`you are a n.i.g.g.e.r`, `I s h i t`) and is also read without them."""
TRAILING_WORDS = frozenset("aiu")
"""Letters that are words after a spelled-out word (`f u c k u`)."""
_MAX_LEAD, _MAX_TRAIL = 3, 2


def trimmed_runs(folded: str, tokens: list[Token]) -> list[Token]:
    """Spelled-out runs read without up to three one-letter words before them and two after
    (`u r a f a g` is also read as `fag`); the runs themselves stay tokens as they were. A
    reading may not start with a doubled letter: `r a c c o o n` is not `a` `r` + `ccoon`."""
    out: list[Token] = []
    for start, end, text in tokens:
        if end - start == len(text):
            continue  # not a spelled-out run: its letters are adjacent
        pieces = [(m.start(), m.end(), m.group()) for m in TOKEN.finditer(folded, start, end)]
        for lead in range(min(_MAX_LEAD, len(pieces)) + 1):
            if lead and pieces[lead - 1][2] not in LEADING_WORDS:
                break
            for trail in range(min(_MAX_TRAIL, len(pieces) - lead) + 1):
                if trail and pieces[-trail][2] not in TRAILING_WORDS:
                    break
                kept = pieces[lead : len(pieces) - trail]
                if (lead or trail) and len(kept) >= 3 and kept[0][2] != kept[1][2]:
                    out.append((kept[0][0], kept[-1][1], "".join(p[2] for p in kept)))
    return out


MARKDOWN = frozenset("*_~|`")
"""Discord markdown markers: bold, italics, underline, strike-through, spoiler, code."""


def without_markdown(folded: Folded) -> Folded | None:
    """The folded text as Discord shows it, markdown markers removed (`f**a**ggot`,
    `f~~u~~ck`); None when there are none. Origins still point at the user's text."""
    text = folded.text
    if MARKDOWN.isdisjoint(text):
        return None
    keep = [i for i, c in enumerate(text) if c not in MARKDOWN]
    origin = keep if folded.origin is None else [folded.origin[i] for i in keep]
    return Folded("".join(text[i] for i in keep), origin, folded.original_length)


def glued_to_markdown(folded: str, token: Token) -> bool:
    """Whether a token is part of a word cut by markdown (`cock` in `cock__t__ail`): it touches
    a run of markers that touches a letter or digit on its other side."""
    start, end, _ = token
    i = start - 1
    while i >= 0 and folded[i] in MARKDOWN:
        i -= 1
    if i < start - 1 and i >= 0 and folded[i].isalnum():
        return True
    j = end
    while j < len(folded) and folded[j] in MARKDOWN:
        j += 1
    return end < j < len(folded) and folded[j].isalnum()


def readings(token: str) -> tuple[str, ...]:
    """Letter-only readings of a token, the most likely first (numbers get readings too: `4`
    may stand for `a` inside a phrase, though a number alone is never taken for a word)."""
    if token.isalpha() and "v" not in token:  # `v` may be a `u`: `fvck`
        return (token,)
    options = [LEET.get(c, (c,)) for c in token]
    options[0] = _LEET_AT_START.get(token[0], options[0])
    options[-1] = _LEET_AT_END.get(token[-1], options[-1])
    combos = itertools.islice(itertools.product(*options), _MAX_READINGS)
    return tuple(r for r in dict.fromkeys("".join(c) for c in combos) if r)


def primary_text(folded: str, tokens: list[Token], drop: Container[int] = ()) -> str:
    """The folded text with each token replaced by its first reading, elongations shortened,
    and the tokens at the indices in `drop` left out."""
    parts: list[str] = []
    last = 0
    for i, (start, end, text) in enumerate(tokens):
        parts.append(folded[last:start])
        if i not in drop:
            parts.append(first_reading(text))
        last = end
    parts.append(folded[last:])
    return "".join(parts)


def first_reading(token: str) -> str:
    """The most likely reading of a token, elongations shortened; numbers stay as they are."""
    return _ELONGATION.sub(r"\1", readings(token)[0]) if _LETTER.search(token) else token


def normalize(text: str) -> str:
    """One canonical reading of `text`: what the classifier sees, and what tests can compare."""
    folded = fold(text).text
    return primary_text(folded, tokenize(folded))
