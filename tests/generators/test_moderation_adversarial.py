"""Obfuscated spellings (issue 15 items 4 and 24): generated sets, the reported bypasses, and
no new false alarms on innocent words, the allow list and the corpus."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from generators.moderation import Moderator
from generators.moderation.adversarial import (
    adversarial_spellings,
    allow_list_sentences,
    clean_spellings,
)

LEVELS = ("family", "teen", "mature")
BOOKS_FLAGGED_BEFORE = 112
"""Flagged paragraphs of the books sample below at family before these rules (word lists)."""


@pytest.fixture(scope="module")
def moderator() -> Moderator:
    return Moderator(use_classifier=False)


@pytest.mark.parametrize("level", LEVELS)
def test_generated_spellings_are_caught_at_every_level(moderator: Moderator, level: str) -> None:
    spellings = [s for s in adversarial_spellings() if s.expected(level) != "allow"]
    verdicts = moderator.check_many([s.text for s in spellings], level, classify=False)
    missed = [s for s, v in zip(spellings, verdicts, strict=True) if v.verdict == "allow"]
    assert len(spellings) > 1000
    assert 1 - len(missed) / len(spellings) >= 0.95, Counter(s.technique for s in missed)
    by_technique = Counter(s.technique for s in spellings)
    for technique, count in Counter(s.technique for s in missed).items():
        assert count / by_technique[technique] <= 0.1, (technique, count)


@pytest.mark.parametrize("level", LEVELS)
def test_innocent_words_and_allow_list_stay_allowed(moderator: Moderator, level: str) -> None:
    texts = [s.text for s in clean_spellings()] + allow_list_sentences()
    flagged = [
        (t, v.spans)
        for t, v in zip(texts, moderator.check_many(texts, level, classify=False), strict=True)
        if v.verdict != "allow"
    ]
    assert len(texts) > 500
    assert flagged == []


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize(
    "text",
    [
        "you are a n.i.g.g.e.r",
        "the bard a f a g g o t",
        "u r a f a g",
        "a poem about a n i g g e r",
        "you are a f.a.g.g.o.t.",
    ],
)
def test_split_slurs_after_one_letter_words(moderator: Moderator, level: str, text: str) -> None:
    verdict = moderator.check(text, level)
    assert (verdict.verdict, verdict.categories) == ("block", ["slurs"])
    (span,) = verdict.spans
    assert text[span.start] in "nf"  # the leading `a` is not part of the slur


@pytest.mark.parametrize(
    "text",
    ["I s h i t", "I s.h.i.t", "f u c k u", "$hitt.", "f@gg@7", "nigg4h", "cockh**d",
     "p*ss*ng", "c0ckf@ce", "mth3rf*ck3r", "7ittyf*ck3r", "cun+", "fuckk!!", "biitch"],
)  # fmt: skip
def test_issue_examples_are_caught_at_family(moderator: Moderator, text: str) -> None:
    assert moderator.check(text, "family").verdict == "block", text


@pytest.mark.parametrize(
    "text",
    [
        "f**a**ggot",
        "f~~u~~ck",
        "f`u`ck",
        "f__u__ck",
        "f||u||ck",
        "you f*a*ggot",
        "f\u3164u\u3164c\u3164k",
        "f\u2800u\u2800c\u2800k",
        "⒡⒰⒞⒦",
        "ⓕⓤⓒⓚ",
        "🅵🆄🅲🅺",
        "🅕🅤🅒🅚",
        "🇫🇺🇨🇰",
        "fvck",
        "cvnt",
    ],
)
def test_discord_rendering_and_unicode_letters(moderator: Moderator, text: str) -> None:
    verdict = moderator.check(text, "family")
    assert verdict.verdict == "block", text
    assert verdict.spans and all(0 <= s.start < s.end <= len(text) for s in verdict.spans)


def test_markdown_redaction_keeps_the_text_as_typed(moderator: Moderator) -> None:
    text = "**Go** away, f~~u~~cking troll"
    verdict = moderator.check(text, "teen")
    assert verdict.verdict == "redact"
    assert verdict.redacted == "**Go** away, " + "█" * len("f~~u~~cking") + " troll"


@pytest.mark.parametrize(
    "text",
    [
        "**Bold** and *italic* text.",
        "The cock__t__ail and the pea**co**ck.",
        "A *spic*e market and a t~~y~~coon.",
        "The pilot climbed into the cockpit.",
        "Inspector Japp rapped on the door; woops, said the rapper.",
        "They fished for pollack off Scunthorpe.",
        "The r a c c o o n ate shitake, said I.",
        "I s a w a cat.",
        "Love, vivid velvet and a cove.",
        "C++ and A+ and +1 and 18+",
        "|| spoiler || and `code` and ~~gone~~",
    ],
)
def test_new_rules_raise_no_false_alarms(moderator: Moderator, text: str) -> None:
    assert moderator.check(text, "family").verdict == "allow", text


def test_tinystories_sample_stays_clean(moderator: Moderator, shared_data: Path) -> None:
    text = (shared_data / "tinystories" / "stories.txt").read_text(encoding="utf-8")
    stories = [s.strip() for s in re.split(r"^<\|endoftext\|>$", text, flags=re.M) if s.strip()]
    verdicts = moderator.check_many(stories[::20], "family", classify=False)
    assert [v.spans for v in verdicts if v.verdict != "allow"] == []


def test_books_sample_gets_no_new_false_alarms(moderator: Moderator, shared_data: Path) -> None:
    paragraphs: list[str] = []
    for book in sorted((shared_data / "gutenberg").rglob("*.txt")):
        parts = re.split(r"\n\s*\n", book.read_text(encoding="utf-8"))
        paragraphs += [p for p in parts if p.strip()][::5]
    verdicts = moderator.check_many(paragraphs, "family", classify=False)
    assert sum(v.verdict != "allow" for v in verdicts) <= BOOKS_FLAGGED_BEFORE
