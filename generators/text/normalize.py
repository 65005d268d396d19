"""Text normalization shared by training data, prompts and evaluation.

Deliberately light: NFC, line endings, stray control characters and whitespace runs. Both quote
conventions (straight and typographic) are kept, because the public-domain books use both and a
model that never saw one of them would pay for it on every quote of a real text; only rare
look-alike quote characters are folded into the two conventions.
"""

from __future__ import annotations

import re
import unicodedata

_QUOTE_FOLD = str.maketrans(
    {
        "\u201a": "\u2018",  # single low-9 -> left single
        "\u201b": "\u2018",
        "\u2032": "'",  # prime
        "\u00b4": "'",  # acute accent used as apostrophe
        "\u201e": "\u201c",  # double low-9 -> left double
        "\u201f": "\u201c",
        "\u2033": '"',  # double prime
        "\u00ab": '"',
        "\u00bb": '"',
        "\u2026": "...",
        "\u00a0": " ",
        "\u2009": " ",
        "\u202f": " ",
        "\t": " ",
    }
)
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\u00ad]")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACE_RUN = re.compile(r"[ ]{2,}")
_TRAILING_SPACE = re.compile(r"[ ]+\n")
_BLANK_RUN = re.compile(r"\n{3,}")


def normalize_text(text: str) -> str:
    """Return `text` in the form the models are trained on (idempotent)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = unicodedata.normalize("NFC", text)
    text = text.translate(_QUOTE_FOLD)
    text = _INVISIBLE.sub("", text)
    text = _CONTROL.sub("", text)
    text = _SPACE_RUN.sub(" ", text)
    text = _TRAILING_SPACE.sub("\n", text)
    text = _BLANK_RUN.sub("\n\n", text)
    return text.strip()


def split_documents(text: str) -> list[str]:
    """Split a plain text file into documents at blank lines (the eval file format)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return [block.strip("\n") for block in re.split(r"\n[ \t]*\n", text) if block.strip()]
