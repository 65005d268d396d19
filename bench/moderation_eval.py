"""A labelled evaluation set for moderation, built from scratch on every run.

Clean examples are hand-written story sentences, many built around innocent words that contain
a listed string (Scunthorpe, assassin, cocktail, therapist...), plus dark-fiction sentences and
odd Unicode. Offensive examples put every listed term into a neutral sentence, once plainly and
once per evasion technique (leetspeak, look-alike letters, separators, zero-width and bidi
characters, repeated letters, fullwidth and mathematical letters, combining marks), generated
with a fixed seed. Labels are the categories of the lists the term comes from; the expected
verdict at a level is the strictest action of those categories there.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from generators.moderation import CATEGORIES, DEFAULT_WORDLIST_DIR, LEVELS, read_wordlists
from generators.moderation.levels import SEVERITY

CLEAN_SENTENCES = (
    "Scunthorpe United won the match in the rain.",
    "The assassin crept along the castle wall.",
    "Our class went to the museum on Friday.",
    "She ordered a fruit cocktail with a paper umbrella.",
    "A bunch of purple grapes sat on the table.",
    "The therapist listened to the old sailor's story.",
    "He read Dickens by candlelight every winter.",
    "Mum fried shitake mushrooms with garlic.",
    "Shiitake mushrooms grow on fallen oak logs.",
    "The pilot climbed into the cockpit and waved.",
    "The wizard's analysis of the potion took all night.",
    "They drove from Essex to Sussex and then to Middlesex.",
    "The title of the book was written in gold.",
    "Lily sewed a button on her shirt.",
    "The bass player tapped his foot to the beat.",
    "Please pass the salt, said the king.",
    "Hello, little bird, said the girl.",
    "The soup needed more spice and a pinch of salt.",
    "The arsenal was full of old swords and shields.",
    "She signed the document with a feather pen.",
    "The program will execute the plan at dawn.",
    "Grandpa cooked eggs in the cast-iron skillet.",
    "The grasshopper and the ant argued about winter.",
    "The peacock spread its tail in the garden.",
    "A raccoon hid inside the cocoon-shaped tent.",
    "The cucumber salad had dill and lemon.",
    "Cumulus clouds drifted over the hills.",
    "The sextant helped the sailors find their way.",
    "He sniggered at the joke and hid behind a book.",
    "They sailed down the river Niger at sunrise.",
    "The rapper rapped about his hometown.",
    "Someone rapped three times on the door.",
    "Penistone is a small town in Yorkshire.",
    "The cockatoo squawked from the top of the cage.",
    "He bought a titanic wheel of cheese.",
    "The ghost screamed and blood dripped from the knife.",
    "The detective knew the murder had happened at midnight.",
    "The dead rose from their graves under the full moon.",
    "She grabbed the knife and ran into the dark forest.",
    "The hunter promised to kill the wolf before dawn.",
    "A scream echoed through the empty halls.",
    "The vampire smelled blood and smiled.",
    "I'm a sea shell, said the little crab.",
    "The sign said U.S.A. in big red letters.",
    "They listed a, b, c and d on the board.",
    "The tombstone read R.I.P. in faded letters.",
    "Cl4ss starts at 9, so bring your pencil.",
    "He plays the b4ss in a band called Grape Juice.",
    "I l0ve my c4t and my d0g.",
    "p.a.s.s the ball to me!",
    "The café served crème brûlée and naïve jokes. 🍮✨",
    "مرحبا بالعالم، هذه قصة جميلة.",
    "שלום עולם, זה סיפור יפה.",
    "Z̤͔ͧ̑̓ä͖̭̈̇lͮ̒ͫǧ̗͚̚o̙̔ͮ̇͐̇ text is spooky but harmless.",
    "Привет, мир! Это хорошая история.",
    "これは短い物語です。",
    "👨‍👩‍👧‍👦 The family went camping 🏕️🔥",
    "The spy said the password was Scunthorpe1999.",
    "Call me at 555-1234 after the show.",
    "The cock crowed at dawn and woke the farm.",
    "The rooster went cock-a-doodle-doo.",
    "She read about the Sussex Downs in the afternoon.",
    "His assistant passed him the compass.",
    "They studied the classics in the library.",
    "The butterfly landed on the buttercup.",
    "The hunter skinned the rabbit for the stew.",
)

INNOCENT_WORDS = (
    # Words that contain or resemble a listed string, each put into a neutral sentence.
    "Scunthorpe", "assassin", "class", "classic", "cocktail", "cockpit", "cockatoo", "cockroach",
    "peacock", "shuttlecock", "grape", "grapes", "drape", "scrape", "therapist", "Dickens",
    "dickensian", "shitake", "shiitake", "Matsushita", "analysis", "analyst", "Essex", "Sussex",
    "Middlesex", "title", "titanic", "button", "buttress", "bass", "bassoon", "pass", "passage",
    "compass", "grass", "glass", "brass", "hello", "shell", "spice", "spices", "arsenal",
    "arsenic", "document", "execute", "skillet", "cucumber", "circumstance", "cumulus", "cumin",
    "succumb", "accumulate", "sextant", "sextet", "Penistone", "raccoon", "cocoon", "tycoon",
    "pussycat", "woodpecker", "rapier", "rapper", "rapped", "sniggered", "Niger", "Nigeria",
    "Japan", "Japanese", "Pakistan", "assume", "assess", "embarrass", "harass", "cassette",
    "Massachusetts", "passion", "scrap", "scrappy", "clatter", "honky-tonk", "cocky", "hitch",
    "kitchen", "ditch", "butterfly", "parsec", "Wopsle", "spicy", "cockle", "cockney",
)  # fmt: skip

_CLEAN_TEMPLATES = (
    "The word {w} was written on the old map.",
    "She smiled and said {w} twice.",
    "In the story, {w} mattered more than gold.",
)

HELD_OUT: tuple[tuple[str, tuple[str, ...]], ...] = (
    # Offensive sentences written without looking at the lists: inflections, spellings and
    # phrasings the lists may lack, to show what the lists miss and what the classifier adds.
    ("This is the shittiest castle I have ever seen.", ("profanity",)),
    ("Get your bitchin' boots on, we ride at dawn.", ("profanity",)),
    ("He is a total wankstain and everyone knows it.", ("profanity",)),
    ("Cunting hell, the dragon is back.", ("profanity",)),
    ("You absolute dickwads, you lost the map.", ("profanity",)),
    ("Bullshitting the guards will not work.", ("profanity",)),
    ("Piss off, goblin.", ("profanity",)),
    ("That is some fucked-up magic.", ("profanity",)),
    ("Eat sh!t and leave my tavern.", ("profanity",)),
    ("Stop being such an arse, Tom.", ("profanity",)),
    ("Get out of here, you filthy n1gg3r.", ("slurs",)),
    ("He called the merchant a k1ke and spat.", ("slurs",)),
    ("She mocked his chinky eyes.", ("slurs",)),
    ("No trannys allowed in the guild.", ("slurs",)),
    ("Send me your nudes tonight.", ("sexual",)),
    ("She gave him a bl0wj0b behind the inn.", ("sexual",)),
    ("He was jerking off behind the barn.", ("sexual",)),
    ("We had hot sex all night in the tower.", ("sexual",)),
    ("I am so horny right now.", ("sexual",)),
    ("He disemboweled the guard with a rusty blade.", ("violence",)),
    ("His brains splattered across the wall.", ("violence",)),
    ("They skinned him alive in the square.", ("violence",)),
    ("Just kys already.", ("self_harm",)),
    ("Nobody would miss you, go kill yourself.", ("self_harm",)),
    ("You should just hang yourself.", ("self_harm",)),
    ("I am going to kill myself tonight.", ("self_harm",)),
    ("I want to end it all tonight.", ("self_harm",)),
    ("Looking for sexy pics of kids.", ("sexual", "sexual_minors")),
)

_TEMPLATES = (
    '"{w}," she muttered under her breath.',
    "The note on the door just said {w}.",
    "He looked at the crowd and shouted {w}!",
    "{w}",
    "Honestly, {w}, that is what I think.",
)

_LEET = {
    "a": "4@",
    "e": "3",
    "i": "1!",
    "o": "0",
    "s": "5$",
    "t": "7",
    "l": "1",
    "g": "9",
    "b": "8",
}
_HOMOGLYPHS = {
    "a": "аα", "c": "с", "e": "еε", "o": "оο", "p": "рρ", "x": "хχ", "y": "у", "i": "і",
    "s": "ѕ", "j": "ј", "h": "һ", "k": "κ",
}  # fmt: skip
_ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"
_BIDI = "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_COMBINING = "\u0301\u0308\u0336\u0323\u0331"


@dataclass(frozen=True)
class Example:
    text: str
    categories: frozenset[str]
    kind: str
    """`clean`, `held_out`, `plain`, or `obfuscated/<technique>`."""

    def expected(self, level: str) -> str:
        return max(
            (LEVELS[level][c] for c in self.categories), key=SEVERITY.__getitem__, default="allow"
        )


def _per_letter(word: str, rng: random.Random, table: dict[str, str], p: float) -> str | None:
    out = []
    for i, c in enumerate(word):
        choices = table.get(c, "")
        if not (0 < i < len(word) - 1 and word[i - 1] != " " and word[i + 1] != " "):
            choices = choices.replace("!", "")  # `!` only reads as a letter inside a word
        out.append(rng.choice(choices) if choices and rng.random() < p else c)
    result = "".join(out)
    return result if result != word else None


def _between_letters(word: str, rng: random.Random, pool: str) -> str:
    return "".join(
        c + (rng.choice(pool) if c != " " and n != " " else "")
        for c, n in zip(word, word[1:] + " ", strict=True)
    ).rstrip()


def _leet(word: str, rng: random.Random) -> str | None:
    return _per_letter(word, rng, _LEET, 0.7)


def _homoglyphs(word: str, rng: random.Random) -> str | None:
    return _per_letter(word, rng, _HOMOGLYPHS, 1.0)


def _separators(word: str, rng: random.Random) -> str:
    sep = rng.choice([".", " ", "-", "_", " . "])
    return " ".join(sep.join(part) for part in word.replace("'", "").split())


def _zero_width(word: str, rng: random.Random) -> str:
    return _between_letters(word, rng, _ZERO_WIDTH)


def _bidi(word: str, rng: random.Random) -> str:
    return "\u202a" + _between_letters(word, rng, _BIDI) + "\u202c"


def _combining(word: str, rng: random.Random) -> str:
    return "".join(c + (rng.choice(_COMBINING) if c != " " else "") for c in word)


def _repeated(word: str, rng: random.Random) -> str:
    at = rng.choice([i for i, c in enumerate(word) if c != " "])
    return word[:at] + word[at] * rng.randint(3, 6) + word[at + 1 :]


def _fullwidth(word: str, rng: random.Random) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if c.isalpha() else c for c in word.upper())


def _math_bold(word: str, rng: random.Random) -> str:
    return "".join(chr(0x1D41A + ord(c) - ord("a")) if c.isalpha() else c for c in word)


def _mixed(word: str, rng: random.Random) -> str | None:
    leet = _leet(word, rng) or word
    return _zero_width(_homoglyphs(leet, rng) or leet, rng)


TECHNIQUES: dict[str, Callable[[str, random.Random], str | None]] = {
    "leetspeak": _leet,
    "homoglyphs": _homoglyphs,
    "separators": _separators,
    "zero_width": _zero_width,
    "bidi": _bidi,
    "combining": _combining,
    "repeated": _repeated,
    "fullwidth": _fullwidth,
    "math_bold": _math_bold,
    "mixed": _mixed,
}


def listed_terms(wordlist_dir: Path = DEFAULT_WORDLIST_DIR) -> dict[str, frozenset[str]]:
    """Each listed term in plain spelling (plus a plural of `word+` terms), with the categories
    of every list that has it."""
    terms: dict[str, set[str]] = {}
    for category, entries in read_wordlists(wordlist_dir).items():
        if category in CATEGORIES:
            for entry in entries:
                word = entry.strip("*+").lower()
                terms.setdefault(word, set()).add(category)
                if entry.endswith("+"):  # and one inflection, so that `+` is tested too
                    terms.setdefault(word + ("es" if word.endswith("s") else "s"), set()).add(
                        category
                    )
    return {term: frozenset(cats) for term, cats in terms.items()}


def build_eval_set(wordlist_dir: Path = DEFAULT_WORDLIST_DIR, seed: int = 0) -> list[Example]:
    rng = random.Random(seed)
    examples = [Example(s, frozenset(), "clean") for s in CLEAN_SENTENCES]
    examples += [
        Example(rng.choice(_CLEAN_TEMPLATES).format(w=w), frozenset(), "clean")
        for w in INNOCENT_WORDS
    ]
    examples += [Example(s, frozenset(c), "held_out") for s, c in HELD_OUT]
    for term, categories in sorted(listed_terms(wordlist_dir).items()):
        examples.append(Example(rng.choice(_TEMPLATES).format(w=term), categories, "plain"))
        for name, technique in TECHNIQUES.items():
            variant = technique(term, rng)
            if variant is not None:
                text = rng.choice(_TEMPLATES).format(w=variant)
                examples.append(Example(text, categories, f"obfuscated/{name}"))
    return examples


@dataclass(frozen=True)
class Scores:
    precision: float
    recall: float
    verdict_accuracy: float
    positives: int
    negatives: int


def score(examples: Sequence[Example], verdicts: Sequence[str], level: str) -> Scores:
    """Precision and recall of 'not allowed', and how often the exact verdict was expected."""
    expected = [e.expected(level) for e in examples]
    tp = sum(e != "allow" and v != "allow" for e, v in zip(expected, verdicts, strict=True))
    predicted = sum(v != "allow" for v in verdicts)
    positives = sum(e != "allow" for e in expected)
    return Scores(
        precision=tp / predicted if predicted else 1.0,
        recall=tp / positives if positives else 1.0,
        verdict_accuracy=sum(e == v for e, v in zip(expected, verdicts, strict=True))
        / len(examples),
        positives=positives,
        negatives=len(examples) - positives,
    )
