"""Adversarial spellings of the listed words, and the same tricks applied to innocent words.

The moderation tests and bench/moderation_eval.py measure the filter on these: every listed
single word is spelled out after a one-letter word (`you are a n.i.g.g.e.r`, `I s h i t`),
masked with `*`, mixed with `$`, `@` and digits, given a doubled letter and trailing
punctuation, glued into a compound (`c0ckf@ce`, `mth3rf*ck3r`), cut up by Discord markdown
(`f**a**ggot`, `f~~u~~ck`), spaced with blank characters (U+3164, U+2800), written in
enclosed or regional-indicator letters, or with `v` for `u`. The clean side applies the
tricks that keep a word readable to innocent words containing a listed string (Scunthorpe,
assassin, cockpit), which must stay allowed. Generation is deterministic for a seed.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from generators.moderation.levels import LEVELS, SEVERITY
from generators.moderation.lexicon import ALLOWED, CATEGORIES, DEFAULT_WORDLIST_DIR, read_wordlists

ONE_LETTER_LEADS = ("you are a ", "the bard a ", "I ", "u r a ", "what a ", "call him a ")
_SPLITTERS = (".", " ", "-", "_", ". ", " . ")
_SYMBOLS = {"a": "@4", "e": "3", "i": "1!", "o": "0@", "s": "$5", "t": "7+", "g": "9", "l": "1"}
_PUNCTUATION = (".", "!", "?", "...", "!!", ",", "?!")
_MARKDOWN = ("**", "*", "__", "~~", "`", "||")
_BLANKS = ("\u3164", "\u2800")
_TAILS = ("face", "head", "bag", "wad", "hole", "stain", "sucker", "lord")
_HEADS = ("mother", "titty", "dumb", "fat", "big")
_SENTENCES = (
    "{w}",
    "{w}!",
    "The note on the door just said {w}",
    "Honestly, {w}, that is what I think.",
    '"{w}," she muttered.',
)
INNOCENT_WORDS = (
    "Scunthorpe", "assassin", "class", "classic", "cocktail", "cockpit", "cockatoo", "peacock",
    "shitake", "shiitake", "therapist", "Dickens", "analysis", "Essex", "Sussex", "title",
    "button", "bass", "pass", "compass", "grass", "glass", "hello", "shell", "spice", "arsenal",
    "document", "execute", "skillet", "cucumber", "cumulus", "cumin", "succumb", "sextant",
    "Penistone", "raccoon", "cocoon", "tycoon", "rapier", "rapper", "rapped", "sniggered",
    "Niger", "Japan", "assume", "assess", "embarrass", "harass", "passion", "scrap", "clatter",
    "cockney", "hitch", "kitchen", "butterfly", "spicy", "woops", "pollack", "shuttlecock",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Spelling:
    """One generated text: `term` is the listed word (or the innocent word) it spells."""

    text: str
    term: str
    technique: str
    categories: frozenset[str]

    def expected(self, level: str) -> str:
        actions = LEVELS[level]
        return max((actions[c] for c in self.categories), key=SEVERITY.__getitem__, default="allow")


def _spelled(word: str, rng: random.Random) -> str:
    return rng.choice(_SPLITTERS).join(word)


def _after_one_letter_word(word: str, rng: random.Random) -> str:
    return rng.choice(ONE_LETTER_LEADS) + _spelled(word, rng)


def _symbols(word: str, rng: random.Random, p: float = 0.6) -> str:
    out = [rng.choice(_SYMBOLS[c]) if c in _SYMBOLS and rng.random() < p else c for c in word]
    if out == list(word):
        at = rng.choice([i for i, c in enumerate(word) if c in _SYMBOLS] or [0])
        out[at] = rng.choice(_SYMBOLS.get(word[at], word[at]))
    return "".join(out)


def _star_mask(word: str, rng: random.Random) -> str | None:
    inner = list(range(1, len(word)))
    if len(word) < 4:
        return None
    chosen = rng.sample(inner, rng.randint(1, max(1, (len(word) - 1) // 3)))
    return "".join("*" if i in chosen else c for i, c in enumerate(word))


def _doubled(word: str, rng: random.Random) -> str:
    at = rng.randrange(len(word))
    return word[: at + 1] + word[at] + word[at + 1 :] + rng.choice(("", *_PUNCTUATION))


def _symbols_doubled(word: str, rng: random.Random) -> str:
    return _symbols(_doubled(word, rng).rstrip("".join(_PUNCTUATION)), rng) + rng.choice(
        _PUNCTUATION
    )


def _trailing_punctuation(word: str, rng: random.Random) -> str:
    return word + rng.choice(_PUNCTUATION)


def _compound(word: str, rng: random.Random) -> str:
    glued = rng.choice(_HEADS) + word if rng.random() < 0.5 else word + rng.choice(_TAILS)
    return glued


def _compound_obfuscated(word: str, rng: random.Random) -> str:
    glued = _compound(word, rng)
    if rng.random() < 0.5:
        return _symbols(glued, rng, 0.4)
    vowels = [i for i, c in enumerate(glued) if c in "aeiou"]
    at = rng.choice(vowels) if vowels else len(glued) // 2
    return _symbols(glued[:at] + "*" + glued[at + 1 :], rng, 0.3)


def _markdown(word: str, rng: random.Random) -> str:
    marker = rng.choice(_MARKDOWN)
    at = rng.randrange(1, len(word))
    end = min(len(word), at + rng.randint(1, 2))
    return word[:at] + marker + word[at:end] + marker + word[end:]


def _blank_separated(word: str, rng: random.Random) -> str:
    return rng.choice(_BLANKS).join(word)


def _enclosed(word: str, rng: random.Random) -> str:
    style = rng.choice(("parenthesized", "circled", "negative circled", "negative squared"))
    base = {
        "parenthesized": 0x249C,
        "circled": 0x24D0,
        "negative circled": 0x1F150,
        "negative squared": 0x1F170,
    }[style]
    return "".join(chr(base + ord(c) - ord("a")) for c in word)


def _regional(word: str, rng: random.Random) -> str:
    return "".join(chr(0x1F1E6 + ord(c) - ord("a")) for c in word)


def _v_for_u(word: str, rng: random.Random) -> str | None:
    return word.replace("u", "v") if "u" in word else None


Technique = Callable[[str, random.Random], str | None]

TECHNIQUES: dict[str, Technique] = {
    "after_one_letter_word": _after_one_letter_word,
    "spelled": _spelled,
    "symbols": _symbols,
    "star_mask": _star_mask,
    "doubled": _doubled,
    "symbols_doubled": _symbols_doubled,
    "trailing_punctuation": _trailing_punctuation,
    "compound": _compound,
    "compound_obfuscated": _compound_obfuscated,
    "markdown": _markdown,
    "blank_separated": _blank_separated,
    "enclosed": _enclosed,
    "regional": _regional,
    "v_for_u": _v_for_u,
}
CLEAN_TECHNIQUES = (
    "after_one_letter_word", "spelled", "symbols", "doubled", "trailing_punctuation",
    "markdown", "blank_separated", "enclosed", "regional",
)  # fmt: skip
"""Tricks that keep a word what it was; a masked or compounded innocent word is another word."""


def listed_words(wordlist_dir: Path = DEFAULT_WORDLIST_DIR) -> dict[str, frozenset[str]]:
    """Each listed single word in plain spelling, with the categories of the lists that have it."""
    words: dict[str, set[str]] = {}
    for category, terms in read_wordlists(wordlist_dir).items():
        if category in CATEGORIES:
            for term in terms:
                word = term.strip("*+").lower()
                if word.isalpha():
                    words.setdefault(word, set()).add(category)
    return {word: frozenset(categories) for word, categories in words.items()}


def _allowed_words(wordlist_dir: Path) -> frozenset[str]:
    lists = read_wordlists(wordlist_dir)
    return frozenset(t.replace(" ", "").lower() for t in lists.get(ALLOWED, ()))


def adversarial_spellings(
    wordlist_dir: Path = DEFAULT_WORDLIST_DIR, *, seed: int = 0, rounds: int = 2
) -> list[Spelling]:
    """`rounds` variants per listed word and technique, each put into a sentence. Variants
    that are themselves innocent words of the allow list (`rapped`) are left out."""
    rng = random.Random(seed)
    allowed = _allowed_words(wordlist_dir)
    out: list[Spelling] = []
    for word, categories in sorted(listed_words(wordlist_dir).items()):
        for name, technique in TECHNIQUES.items():
            for _ in range(rounds):
                variant = technique(word, rng)
                if variant is None or variant.lower().strip(".!?,") in allowed:
                    continue
                text = rng.choice(_SENTENCES).format(w=variant)
                out.append(Spelling(text, word, name, categories))
    return out


def _ambiguous(variant: str, listed: frozenset[str]) -> bool:
    """Whether an innocent word's variant may honestly be read as a listed word: a doubled
    letter that spells one (`niger` -> `nigger`) or makes a run of three (`assesss`), a symbol
    at either end (`$crap`, `4ss35$`), or a single `*` around letters, which is also a mask."""
    bare = variant.rstrip("".join(_PUNCTUATION))
    if bare in listed or any(c * 3 in bare for c in set(bare)):
        return True
    if bare[:1] in "$@!+0123456789" or bare[-1:] in "$@!+0123456789":
        return True
    return "*" in bare and "**" not in bare


def clean_spellings(
    wordlist_dir: Path = DEFAULT_WORDLIST_DIR, *, seed: int = 0, rounds: int = 2
) -> list[Spelling]:
    """Innocent words under the tricks that keep them innocent; none may be flagged."""
    rng = random.Random(seed)
    listed = frozenset(listed_words(wordlist_dir))
    out: list[Spelling] = []
    for word in INNOCENT_WORDS:
        lower = word.lower()
        out.append(Spelling(rng.choice(_SENTENCES).format(w=word), lower, "plain", frozenset()))
        for name in CLEAN_TECHNIQUES:
            for _ in range(rounds):
                variant = TECHNIQUES[name](lower, rng)
                if variant is not None and not _ambiguous(variant, listed):
                    text = rng.choice(_SENTENCES).format(w=variant)
                    out.append(Spelling(text, lower, name, frozenset()))
    return out


def allow_list_sentences(wordlist_dir: Path = DEFAULT_WORDLIST_DIR) -> list[str]:
    """Each allow-list phrase in a sentence, as a story would use it."""
    phrases = read_wordlists(wordlist_dir).get(ALLOWED, [])
    return [f"In the story, the {phrase} came back at dawn." for phrase in phrases]
