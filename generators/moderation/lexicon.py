"""Word and phrase lists, compiled for whole-word matching over normalized tokens.

Terms are indexed by *skeleton* (the word with each run of a repeated letter shortened to one)
plus the run lengths. A token matches a term when their skeletons agree and each run in the
token is at least as long as the term's: `fuuuck`, `shitt` and `asss` match `fuck`, `shit` and
`ass`, while `as` does not match `ass`. English words that are a listed word with one letter
doubled (`rapped`, `woops`) are in the allow list. Matching is on whole tokens, so listed
strings inside innocent words (`class`, `Scunthorpe`, `therapist`) never match; a token is
also read as a compound of a listed word and a common insult part (`cockface`, `fatnigger`).
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from generators.moderation.normalize import LEET, Token, fold, readings

CATEGORIES: tuple[str, ...] = (
    "profanity",
    "slurs",
    "sexual",
    "sexual_minors",
    "violence",
    "self_harm",
)
MINORS = "minors"
"""Context list, not a category: it turns nearby sexual terms into `sexual_minors`."""
ALLOWED = "allow"
"""Context list, not a category: innocent phrases (`cock a doodle doo`) that hide matches."""
CONTEXT_LISTS = (MINORS, ALLOWED)

DEFAULT_WORDLIST_DIR = Path(__file__).resolve().parent.parent / "moderation_data"

_WORD = re.compile(r"[a-z]+")
_VALID_TERM = re.compile(r"\*?[a-z]+(?:[ \-'][a-z]+)*[*+]?")
_SUFFIXES = ("s", "es", "ed", "d", "ing", "in", "er", "ers", "y", "ie", "ies", "ier", "iest")
"""Inflections tried on `word+` terms, in skeleton form (`shitty` is `shit` + `y`)."""
_E_DROPPING = frozenset({"ing", "ed", "er", "ers", "y"})
"""Suffixes before which a final e goes (`whoring`); not `ier`, or a rapier would be flagged."""
_DOUBLE = re.compile(r"(.)\1")
_RUN = re.compile(r"(.)\1*")
_MASKED = re.compile(r"(?<![a-z0-9@$*!+])[a-z0-9@$!+]*[a-z0-9@$][a-z0-9@$!+*]*\*[a-z0-9@$!+*]*")
"""A word with `*` standing for letters (`f*ck`, `p*ss*ng`, `mth3rf*ck3r`), leet included."""
COMPOUND_TAILS = ("face", "head", "bag", "wad", "hole", "stain", "sucker", "lord", "wipe")
COMPOUND_HEADS = ("mother", "titty", "dumb", "fat", "big")
"""Parts that make an insult of a listed word glued to them (`cockhead`, `bigcunt`)."""
_CACHE_LIMIT = 100_000

Runs = tuple[int, ...] | None
"""Run length of each skeleton letter; None when every run is one letter long."""


def skeleton(word: str) -> tuple[str, Runs]:
    if _DOUBLE.search(word) is None:
        return word, None
    return _RUN.sub(r"\1", word), tuple(m.end() - m.start() for m in _RUN.finditer(word))


def _covers(token_runs: Runs, term_runs: Runs) -> bool:
    """True when each token run is at least as long as the term's (`shitt`, `fuuuck`), so
    that a letter is never read twice (`as` is not `ass`)."""
    if term_runs is None:
        return True
    if token_runs is None:
        return all(need == 1 for need in term_runs)
    return all(have >= need for have, need in zip(token_runs, term_runs, strict=False))


def _plain(runs: Runs) -> bool:
    """No doubled letter, elongations aside: a suffix must be plain (`assess` is no `ass`+`es`)."""
    return runs is None or all(have == 1 or have >= 3 for have in runs)


def _covers_stem(token_runs: Runs, term_runs: Runs, length: int) -> bool:
    """Like `_covers` for the first `length` runs, but the stem's last letter may be doubled
    before a suffix (`shit` -> `shitty`)."""
    head = token_runs and token_runs[: length - 1]
    last = token_runs[length - 1] if token_runs else 1
    need = term_runs[length - 1] if term_runs and length <= len(term_runs) else 1
    return _covers(head or None, term_runs and term_runs[: length - 1]) and last >= need


@dataclass(frozen=True, slots=True)
class Entry:
    term: str
    category: str
    skeleton: str
    runs: Runs


@dataclass(frozen=True, slots=True)
class Phrase:
    term: str
    category: str
    words: tuple[tuple[str, Runs], ...]


@dataclass(frozen=True, slots=True)
class Hit:
    """One match, in folded-text coordinates."""

    start: int
    end: int
    category: str
    term: str


@dataclass(frozen=True, slots=True)
class _TokenMatch:
    entries: tuple[Entry, ...]
    phrases: tuple[Phrase, ...]
    forms: tuple[tuple[str, Runs], ...]


_NO_MATCH = _TokenMatch((), (), ())


def parse_list(text: str) -> list[str]:
    """The terms of one word-list file: comments and blank lines dropped."""
    terms = (line.split("#", 1)[0].strip() for line in text.splitlines())
    return [term for term in terms if term]


def read_wordlists(directory: Path) -> dict[str, list[str]]:
    """Terms per category (and per context list) from the `<name>.txt` files present."""
    if not directory.is_dir():
        raise FileNotFoundError(f"word-list directory {directory} does not exist")
    lists = {
        name: parse_list((directory / f"{name}.txt").read_text(encoding="utf-8"))
        for name in (*CATEGORIES, *CONTEXT_LISTS)
        if (directory / f"{name}.txt").is_file()
    }
    if not lists:
        raise FileNotFoundError(f"no word-list files (e.g. profanity.txt) in {directory}")
    return lists


class Lexicon:
    """Compiled word lists; `find` turns tokens into hits. Token results are cached."""

    def __init__(self, lists: Mapping[str, Iterable[str]]) -> None:
        self._whole: dict[str, list[Entry]] = {}
        self._prefix: dict[str, list[Entry]] = {}
        self._infix: list[Entry] = []
        self._inflected: dict[str, list[Entry]] = {}
        self._phrases: dict[str, list[Phrase]] = {}
        self._masked_prefix: list[tuple[str, Entry]] = []
        self._infix_terms: set[str] = set()
        self._cache: dict[str, _TokenMatch] = {}
        self._masked_cache: dict[str, tuple[Entry, ...]] = {}
        self._forms: dict[int, tuple[str, list[Entry], list[int]]] | None = None
        for category, terms in lists.items():
            if category not in (*CATEGORIES, *CONTEXT_LISTS):
                raise ValueError(f"unknown moderation category {category!r}")
            for term in terms:
                self._add(category, term)
        self._prefix_lengths = sorted({len(key) for key in self._prefix})

    @classmethod
    def from_dir(cls, directory: Path = DEFAULT_WORDLIST_DIR) -> Lexicon:
        return cls(read_wordlists(directory))

    def _add(self, category: str, raw: str) -> None:
        term = fold(raw.strip()).text
        if not _VALID_TERM.fullmatch(term):
            raise ValueError(
                f"bad {category} term {raw!r}: use letters and spaces, with * or + only at the ends"
            )
        words = _WORD.findall(term)
        if len(words) > 1:
            if term[0] == "*" or term[-1] in "*+":
                raise ValueError(f"bad {category} term {raw!r}: phrases take no * or +")
            display = " ".join(words)
            self._phrases.setdefault(skeleton(words[0])[0], []).append(
                Phrase(display, category, tuple(skeleton(w) for w in words))
            )
            self._whole.setdefault(skeleton("".join(words))[0], []).append(
                Entry(display, category, *skeleton("".join(words)))
            )
            return
        word = words[0]
        entry = Entry(word, category, *skeleton(word))
        if term.startswith("*"):
            self._infix.append(entry)
            self._infix_terms.add(word)
            self._masked_prefix.append((word, entry))
        elif term.endswith("*"):
            self._prefix.setdefault(entry.skeleton, []).append(entry)
            self._masked_prefix.append((word, entry))
        else:
            self._whole.setdefault(entry.skeleton, []).append(entry)
            if term.endswith("+"):
                self._inflected.setdefault(entry.skeleton, []).append(entry)

    def _match_reading(
        self, reading: str, *, compounds: bool = True
    ) -> tuple[list[Entry], list[Phrase], str, Runs]:
        skel, runs = skeleton(reading)
        entries = [e for e in self._whole.get(skel, ()) if _covers(runs, e.runs)]
        for length in self._prefix_lengths:
            if length > len(skel):
                break
            entries.extend(
                e
                for e in self._prefix.get(skel[:length], ())
                if _covers(runs and runs[:length], e.runs)
            )
        for entry in self._infix:
            at = skel.find(entry.skeleton)
            if at >= 0 and _covers(runs and runs[at : at + len(entry.skeleton)], entry.runs):
                entries.append(entry)
        if self._inflected:
            entries.extend(self._inflections(skel, runs))
        phrases = [p for p in self._phrases.get(skel, ()) if _covers(runs, p.words[0][1])]
        if not entries and compounds:
            entries.extend(self._compound(reading))
        return entries, phrases, skel, runs

    def _compound(self, reading: str) -> Iterable[Entry]:
        """Entries of a listed word glued to an insult part (`c0ckf@ce`, `fatass`); phrases
        and context lists do not count, and the part must leave three letters or more."""
        parts = [reading[: -len(t)] for t in COMPOUND_TAILS if reading.endswith(t)]
        parts += [reading[len(h) :] for h in COMPOUND_HEADS if reading.startswith(h)]
        for part in parts:
            if len(part) >= 3:
                found = self._match_reading(part, compounds=False)[0]
                yield from (e for e in found if e.category in CATEGORIES and " " not in e.term)

    def _inflections(self, skel: str, runs: Runs) -> Iterable[Entry]:
        for suffix in _SUFFIXES:
            stem = skel[: -len(suffix)]
            if len(stem) < 2 or not skel.endswith(suffix):
                continue
            stems = (stem, stem + "e") if suffix in _E_DROPPING else (stem,)
            for candidate in stems:
                for entry in self._inflected.get(candidate, ()):
                    if _covers_stem(runs, entry.runs, len(stem)) and _plain(
                        runs and runs[len(stem) :]
                    ):
                        yield entry

    def _match_token(self, text: str) -> _TokenMatch:
        cached = self._cache.get(text)
        if cached is not None:
            return cached
        entries: dict[Entry, None] = {}
        phrases: dict[Phrase, None] = {}
        forms = []
        number = text.isdigit()  # `455` is a number, not `ass`; inside a phrase `4` may be `a`
        for reading in readings(text):
            found, starts, skel, runs = self._match_reading(reading)
            if not number:
                entries.update(dict.fromkeys(found))
            phrases.update(dict.fromkeys(starts))
            forms.append((skel, runs))
        match = _TokenMatch(tuple(entries), tuple(phrases), tuple(forms)) if forms else _NO_MATCH
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        self._cache[text] = match
        return match

    def find(self, tokens: Sequence[Token]) -> list[Hit]:
        matches = [self._match_token(text) for _, _, text in tokens]
        hits: list[Hit] = []
        for i, match in enumerate(matches):
            if match.entries or match.phrases:
                start, end, _ = tokens[i]
                hits.extend(Hit(start, end, e.category, e.term) for e in match.entries)
                hits.extend(self._phrase_hits(tokens, matches, i, match.phrases))
        return hits

    @staticmethod
    def _phrase_hits(
        tokens: Sequence[Token], matches: list[_TokenMatch], i: int, phrases: Iterable[Phrase]
    ) -> Iterable[Hit]:
        for phrase in phrases:
            last = i + len(phrase.words) - 1
            if last < len(tokens) and all(
                any(
                    skel == want and _covers(runs, want_runs) for skel, runs in matches[i + k].forms
                )
                for k, (want, want_runs) in enumerate(phrase.words[1:], start=1)
            ):
                yield Hit(tokens[i][0], tokens[last][1], phrase.category, phrase.term)

    def find_words(self, tokens: Sequence[Token]) -> list[Hit]:
        """Hits of single-word entries in tokens that are not a sentence (alternative readings
        of one stretch of text, such as a spelled-out run without its one-letter words)."""
        return [
            Hit(start, end, e.category, e.term)
            for start, end, text in tokens
            for e in self._match_token(text).entries
        ]

    def find_masked(self, folded: str) -> list[Hit]:
        """Self-censored words (`f*ck`, `p*ss*ng`, `mth3rf*ck3r`): each `*` stands for one
        letter and leet symbols for theirs. A word needs at least two other characters and
        no more stars than those; inflections and compounds count, as for plain words."""
        if "*" not in folded:
            return []
        hits = []
        for m in _MASKED.finditer(folded):
            pattern = m.group().rstrip("!")  # `f*ck!` ends at k
            stars = pattern.count("*")
            if len(pattern) - stars < max(2, stars):
                continue
            end = m.start() + len(pattern)
            hits.extend(
                Hit(m.start(), end, e.category, e.term) for e in self._masked_match(pattern)
            )
        return hits

    def _masked_match(self, pattern: str) -> tuple[Entry, ...]:
        cached = self._masked_cache.get(pattern)
        if cached is not None:
            return cached
        classes = [_mask_class(c) for c in pattern]
        found: dict[Entry, None] = {}
        blob = self._forms_by_length().get(len(pattern))
        if blob is not None:
            text, entries, offsets = blob
            regex = re.compile("^" + "".join(classes) + "$", re.M)
            for m in regex.finditer(text):
                found[entries[bisect.bisect_right(offsets, m.start()) - 1]] = None
        for word, entry in self._masked_prefix:
            last = len(pattern) - len(word)
            places = range(last + 1) if word in self._infix_terms else range(min(last, 0) + 1)
            if any(_fits(pattern, word, at) for at in places):
                found[entry] = None
        result = tuple(found)
        if len(self._masked_cache) >= _CACHE_LIMIT:
            self._masked_cache.clear()
        self._masked_cache[pattern] = result
        return result

    def _forms_by_length(self) -> dict[int, tuple[str, list[Entry], list[int]]]:
        """Every whole-word form (terms, inflections, compounds) by length, as one text per
        length with a form per line, for matching masked words with one regex scan."""
        if self._forms is not None:
            return self._forms
        forms: dict[str, Entry] = {}
        for entries in self._whole.values():
            for e in entries:
                if e.category in CATEGORIES:
                    forms.setdefault(e.term.replace(" ", ""), e)
                    if " " not in e.term:
                        for part in COMPOUND_TAILS:
                            forms.setdefault(e.term + part, e)
                        for part in COMPOUND_HEADS:
                            forms.setdefault(part + e.term, e)
        for entries in self._inflected.values():
            for e in entries:
                stems = {e.term, e.term + e.term[-1], e.term.removesuffix("e")}
                for stem, suffix in itertools.product(stems, _SUFFIXES):
                    forms.setdefault(stem + suffix, e)
        by_length: dict[int, list[tuple[str, Entry]]] = {}
        for form, entry in forms.items():
            by_length.setdefault(len(form), []).append((form, entry))
        self._forms = {}
        for length, pairs in by_length.items():
            offsets = list(itertools.accumulate((length + 1 for _ in pairs), initial=0))[:-1]
            text = "\n".join(form for form, _ in pairs)
            self._forms[length] = (text, [entry for _, entry in pairs], offsets)
        return self._forms


def _mask_class(char: str) -> str:
    """A regex for what one character of a masked word may stand for."""
    if char == "*":
        return "[a-z]"
    letters = {r for r in LEET.get(char, (char,)) if r}
    return "[" + "".join(sorted(letters)) + "]" if len(letters) > 1 else letters.pop()


def _fits(pattern: str, word: str, at: int) -> bool:
    """Whether `word` can be read at `at` in a masked word; the stretch read must begin with a
    letter shown and show as many as it hides (`peaco**c**k` is no mask of `fuck`)."""
    window = pattern[at : at + len(word)]
    if window[0] == "*" or 2 * window.count("*") > len(window):
        return False
    return all(
        p == "*" or w == p or w in LEET.get(p, ()) for p, w in zip(pattern[at:], word, strict=False)
    )
