"""Moderation of everything a character card stores, not only the fields Talewright uses.

An imported card is kept verbatim so that an export gives back what was imported (alternate
greetings, example messages, system prompts, lorebooks, other apps' extensions). Dropping
those fields would break that round trip, so every string in the card, keys included, passes
the guild's moderation instead: a block refuses the card, a redaction is written into the
stored card.

A card may hold up to a megabyte of text in many thousands of strings, so strings are checked
in groups of up to `GROUP_CHARS` (the size of the largest sheet field, which is checked whole
too), and only the strings of a group that does not pass are checked one by one. Runs on a
worker thread: a full card takes a few hundred milliseconds.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from bot.story.guard import Checked, Guard, GuildRules

GROUP_CHARS = 8000
SEPARATOR = "\n\n"


def check_card_texts(
    guard: Guard, texts: Sequence[str], rules: GuildRules
) -> tuple[Checked | None, dict[str, str]]:
    """The first blocked string's verdict (None when nothing is blocked), and the redacted
    form of every string moderation redacted."""
    groups = list(_groups(texts))
    joined = guard.check_many([SEPARATOR.join(group) for group in groups], rules)
    suspect = [
        text
        for group, checked in zip(groups, joined, strict=True)
        if checked.verdict.verdict != "allow"
        for text in group
    ]
    redactions: dict[str, str] = {}
    for text, checked in zip(suspect, guard.check_many(suspect, rules), strict=True):
        if checked.blocked:
            return checked, {}
        if checked.redacted and checked.text != text:
            redactions[text] = checked.text
    return None, redactions


def _groups(texts: Iterable[str]) -> Iterable[list[str]]:
    group: list[str] = []
    size = 0
    for text in texts:
        if group and size + len(SEPARATOR) + len(text) > GROUP_CHARS:
            yield group
            group, size = [], 0
        size += len(text) + (len(SEPARATOR) if group else 0)
        group.append(text)
    if group:
        yield group
