"""The moderation pipeline: normalize, match word lists, ask the classifier, decide per level.

One `Moderator` serves user input, character sheets, model output and training-data cleaning.
Verdicts list every category found, even those the level allows (a moderator reviewing a report
sees them), while `verdict`, `reasons` and `redacted` follow the level.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from generators.moderation.classifier import ProfanityClassifier
from generators.moderation.levels import LEVELS, SEVERITY, check_level, reason
from generators.moderation.lexicon import (
    ALLOWED,
    CATEGORIES,
    DEFAULT_WORDLIST_DIR,
    MINORS,
    Hit,
    Lexicon,
)
from generators.moderation.normalize import (
    Folded,
    Token,
    fold,
    glued_to_markdown,
    primary_text,
    tokenize,
    trimmed_runs,
    without_markdown,
)
from generators.schemas import ModerationLevel, ModerationVerdict, Span, VerdictName

MASK = "█"
MINORS_WINDOW = 200
"""Characters between a sexual term and a word about children that make it `sexual_minors`."""
_GUILD_CACHE_SIZE = 256


@dataclass
class GuildPolicy:
    """A server's moderation settings: its level, extra terms per category, and exempt terms.

    Exempt terms are never flagged in the guild, however they are spelled: a guild can allow a
    character named Dick. An exempt phrase also covers the listed words inside it, and an exempt
    term also turns off a `*` or `+` entry of that name (`fuck` covers `motherfucker`).
    """

    level: ModerationLevel = "teen"
    extra_terms: dict[str, list[str]] = field(default_factory=dict)
    exempt_terms: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        check_level(self.level)
        unknown = set(self.extra_terms) - set(CATEGORIES)
        if unknown:
            raise ValueError(
                f"unknown moderation categories {sorted(unknown)}; expected {', '.join(CATEGORIES)}"
            )


@dataclass(frozen=True, slots=True)
class _Scan:
    folded: Folded
    tokens: list[Token]
    hits: list[Hit]
    """In the user's text's coordinates."""
    unscored: frozenset[int]
    """Tokens kept from the classifier: those inside allowed phrases and exempt terms."""


def _exempt_key(term: str) -> str:
    return " ".join(fold(term).text.strip("*+ \t").split())


def _apply_context(hits: list[Hit]) -> tuple[list[Hit], list[Hit]]:
    """Resolve the context lists: drop matches inside an allowed phrase, and add
    `sexual_minors` for sexual terms near a word about children. Returns (hits, allowed)."""
    allowed = [h for h in hits if h.category == ALLOWED]
    minors = [h for h in hits if h.category == MINORS]
    if not (allowed or minors):
        return hits, allowed
    kept = [
        h
        for h in hits
        if h.category not in (ALLOWED, MINORS)
        and not any(a.start <= h.start and h.end <= a.end for a in allowed)
    ]
    kept.extend(
        Hit(h.start, h.end, "sexual_minors", h.term)
        for h in kept
        if h.category == "sexual"
        and any(max(m.start - h.end, h.start - m.end) <= MINORS_WINDOW for m in minors)
    )
    return kept, allowed


def _hits(lexicons: Sequence[Lexicon], folded: str, tokens: list[Token]) -> list[Hit]:
    """Word-list hits: whole tokens, spelled-out runs without their one-letter words, and
    masked words."""
    trimmed = trimmed_runs(folded, tokens)
    hits: list[Hit] = []
    for lexicon in lexicons:
        hits += lexicon.find(tokens) + lexicon.find_masked(folded)
        if trimmed:
            hits += lexicon.find_words(trimmed)
    return hits


def _was_cut(rendered: Folded, token: Token) -> bool:
    """Whether markdown was removed from inside the token (its letters were not adjacent)."""
    start, end, _ = token
    origin = rendered.origin
    return origin is not None and origin[end - 1] - origin[start] > end - 1 - start


def _located(hit: Hit, folded: Folded) -> Hit:
    return Hit(*folded.original_span(hit.start, hit.end), hit.category, hit.term)


def _mask(text: str, spans: Sequence[Span]) -> str:
    chars = list(text)
    for span in spans:
        for i in range(span.start, span.end):
            if not chars[i].isspace():
                chars[i] = MASK
    return "".join(chars)


class Moderator:
    """Checks texts against the word lists and, optionally, the trained classifier.

    `use_classifier=False` gives the fast path (no scikit-learn import at all); with it, the
    classifier loads on first use and is called once per `check_many` batch. A classifier score
    at or above `classifier_threshold` counts as profanity wherever the level does not allow
    profanity. When the lists found profanity too, the level's action applies to those words;
    when they found none, the text is blocked even where profanity would only be hidden, since
    there is no word to mask. The default threshold is high because the model also scores plain
    insults (`stupid`, `idiot`) and words like `die` above 0.9; at 0.97 it flags one sentence
    in two thousand of the Gutenberg horror shelf and no story of the TinyStories sample.
    """

    def __init__(
        self,
        *,
        use_classifier: bool = True,
        wordlist_dir: Path | None = None,
        classifier_threshold: float = 0.97,
    ) -> None:
        if not 0.0 < classifier_threshold <= 1.0:
            raise ValueError("classifier_threshold must be in (0, 1]")
        self.classifier_threshold = classifier_threshold
        self._lexicon = Lexicon.from_dir(wordlist_dir or DEFAULT_WORDLIST_DIR)
        self._classifier = ProfanityClassifier() if use_classifier else None
        self._guild_lexicons: OrderedDict[tuple, Lexicon] = OrderedDict()
        self._guild_lock = threading.Lock()

    @property
    def uses_classifier(self) -> bool:
        """Whether verdicts include the classifier (loads it, so False once loading failed)."""
        return self._classifier is not None and self._classifier.available

    def normalize(self, text: str) -> str:
        """The canonical reading matched against (and shown to the classifier)."""
        folded = fold(text).text
        return primary_text(folded, tokenize(folded))

    def check(
        self,
        text: str,
        level: ModerationLevel | None = None,
        policy: GuildPolicy | None = None,
        *,
        classify: bool = True,
    ) -> ModerationVerdict:
        """Moderate one text. The level is `level`, else the policy's level, else `teen`."""
        return self.check_many([text], level, policy, classify=classify)[0]

    def check_many(
        self,
        texts: Sequence[str],
        level: ModerationLevel | None = None,
        policy: GuildPolicy | None = None,
        *,
        classify: bool = True,
    ) -> list[ModerationVerdict]:
        """Moderate many texts with one classifier call; `classify=False` skips the classifier."""
        resolved = check_level(level or (policy.level if policy else "teen"))
        extra = self._guild_lexicon(policy)
        exempt = frozenset(_exempt_key(t) for t in policy.exempt_terms) if policy else frozenset()
        scans = [self._scan(text, extra, exempt) for text in texts]
        scores = None
        if classify and self._classifier is not None and scans:
            scores = self._classifier.scores(
                [primary_text(s.folded.text, s.tokens, s.unscored) for s in scans]
            )
        return [
            self._decide(text, scan, resolved, scores[i] if scores else None)
            for i, (text, scan) in enumerate(zip(texts, scans, strict=True))
        ]

    def _guild_lexicon(self, policy: GuildPolicy | None) -> Lexicon | None:
        """The guild's extra terms, and its exempt terms as allowed phrases (so that exempting
        `son of a bitch` also hides the `bitch` inside it)."""
        if policy is None or not (any(policy.extra_terms.values()) or policy.exempt_terms):
            return None
        key = (
            tuple(sorted((c, tuple(terms)) for c, terms in policy.extra_terms.items())),
            tuple(policy.exempt_terms),
        )
        with self._guild_lock:
            lexicon = self._guild_lexicons.get(key)
            if lexicon is not None:
                self._guild_lexicons.move_to_end(key)
                return lexicon
        exempt = [key for key in map(_exempt_key, policy.exempt_terms) if key]
        lexicon = Lexicon({**policy.extra_terms, ALLOWED: exempt})
        with self._guild_lock:
            self._guild_lexicons[key] = lexicon
            if len(self._guild_lexicons) > _GUILD_CACHE_SIZE:
                self._guild_lexicons.popitem(last=False)
        return lexicon

    def _scan(self, text: str, extra: Lexicon | None, exempt: frozenset[str]) -> _Scan:
        """Hits in the text as typed and, when it has markdown, as Discord shows it (the
        text stored and redacted is always the one typed)."""
        folded = fold(text)
        tokens = tokenize(folded.text)
        rendered = without_markdown(folded)
        lexicons = (self._lexicon,) if extra is None else (self._lexicon, extra)
        if rendered is None:
            hits = [_located(h, folded) for h in _hits(lexicons, folded.text, tokens)]
        else:  # a word cut by markdown (`cock__t__ail`) is read whole, from the rendered text
            words = [t for t in tokens if not glued_to_markdown(folded.text, t)]
            hits = [_located(h, folded) for h in _hits(lexicons, folded.text, words)]
            cut = [t for t in tokenize(rendered.text) if _was_cut(rendered, t)]
            hits += [_located(h, rendered) for lex in lexicons for h in lex.find_words(cut)]
        if exempt:  # exempt words are allowed phrases too; this turns off `*` and `+` entries
            hits = [h for h in hits if h.term not in exempt or h.category == ALLOWED]
        hits, allowed = _apply_context(hits)
        unscored = (
            frozenset(
                i
                for i, (start, end) in enumerate(folded.original_span(s, e) for s, e, _ in tokens)
                if any(a.start <= start and end <= a.end for a in allowed)
            )
            if allowed
            else frozenset()
        )
        return _Scan(folded, tokens, hits, unscored)

    def _decide(
        self, text: str, scan: _Scan, level: ModerationLevel, score: float | None
    ) -> ModerationVerdict:
        actions = LEVELS[level]
        located = {(h.start, h.end, h.category): h.term for h in scan.hits}
        spans = [
            Span(start=start, end=end, category=category, term=term)
            for (start, end, category), term in sorted(located.items())
        ]
        found = {category for _, _, category in located}
        decisions: dict[str, VerdictName] = {c: actions[c] for c in CATEGORIES if c in found}
        reasons = [reason(c, a, level) for c, a in decisions.items() if a != "allow"]
        if (
            score is not None
            and score >= self.classifier_threshold
            and actions["profanity"] != "allow"
            and "profanity" not in found
        ):
            # The lists found no profanity to hide, so the classifier's call can only block.
            decisions["profanity"] = "block"
            unhideable = " with no single word to hide" if actions["profanity"] == "redact" else ""
            reasons.append(
                f"reads as profane or abusive (classifier score {score:.2f}){unhideable}, "
                f"which is not allowed at the {level} level"
            )
        verdict: VerdictName = (
            max(decisions.values(), key=SEVERITY.__getitem__) if decisions else "allow"
        )
        redacted = None
        if verdict == "redact":
            redacted = _mask(text, [s for s in spans if decisions[s.category] == "redact"])
        return ModerationVerdict(
            verdict=verdict,
            categories=list(decisions),
            spans=spans,
            redacted=redacted,
            reasons=reasons,
            classifier_score=score,
            level=level,
        )


@functools.cache
def default_moderator() -> Moderator:
    """The process-wide moderator with the shipped lists and the (lazily loaded) classifier."""
    return Moderator()
