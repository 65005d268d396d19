"""Moderation as the engine applies it: a guild's level and word lists, on every text.

The generator already moderates what it writes at the request's level, but only the engine
knows a guild's own word lists, so user turns, character sheets and generated candidates all
pass through here. Terms a guild blocks in every category (`*`) are filed under `slurs`, the
category blocked at every level, and the reason the writer reads names the guild's list rather
than calling their word a slur.

A guild's link policy applies here too: with `block`, a text holding a link (a URL, `www.`, an
invite or a masked `[x](url)` link) is refused like a blocked word; titles and names are checked
with `require_no_link`, which refuses links unless the policy is `allow` (the default, `turns`,
allows them in story text only).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bot.errors import InvalidInput, ModerationBlocked
from generators.moderation import CATEGORIES, GuildPolicy, Moderator
from generators.moderation.levels import reason
from generators.moderation.normalize import fold
from generators.schemas import ModerationVerdict
from storage.models import (
    ANY_CATEGORY,
    DEFAULT_LINK_POLICY,
    GuildSettings,
    LinkPolicy,
    ModerationLevel,
)
from storage.repositories import GuildRepository

EVERY_LEVEL_BLOCK = "slurs"
_WORD = re.compile(r"[a-z]+")
_LINK = re.compile(
    r"[a-z][a-z0-9+.-]*://\S|\bwww\.\S+\.\S|\bdiscord(?:\.gg|app\.com/invite|\.com/invite)/"
    r"|\[[^\]]*\]\(\s*<?[^)\s]",
    re.IGNORECASE,
)
LINKS_REFUSED = "holds a link, and this server's moderators do not allow links"


def has_link(text: str) -> bool:
    """Whether the text holds something Discord would show as a link."""
    return _LINK.search(text) is not None


SAFE_LINES: dict[str, tuple[str, ...]] = {
    "continue": (
        "For a moment nothing stirred, as if the story itself were holding its breath.",
        "A quiet moment passed before anything happened next.",
    ),
    "opening": (
        "Once upon a time, in a place not so far from here, a new story was waiting to begin.",
        "A new story began.",
    ),
    "twist": (
        "Then, without warning, everything they thought they knew began to change.",
        "Then something changed.",
    ),
    "poem": (
        "The night was still, the stars were bright,\nand every word took gentle flight.",
        "The night was still.",
    ),
    "dialogue": ('"Let\'s keep going," {name} said. "There is more to this story yet."',),
}
"""Lines used when every candidate fails the guild's rules twice. The generator has its own
fallback lines, but they sit behind a torch import; these are checked against the guild's
rules too, and the first that passes is used."""


@dataclass(frozen=True, slots=True)
class GuildRules:
    guild_id: int
    policy: GuildPolicy
    custom_terms: frozenset[str]
    """The guild's every-category terms, as moderation reports them in spans."""
    links: LinkPolicy = DEFAULT_LINK_POLICY


@dataclass(frozen=True, slots=True)
class Checked:
    """A verdict and what follows from it: the text to store and the reasons to show."""

    verdict: ModerationVerdict
    text: str
    reasons: tuple[str, ...]

    @property
    def blocked(self) -> bool:
        return self.verdict.verdict == "block"

    @property
    def redacted(self) -> bool:
        return self.verdict.verdict == "redact"

    def record(self) -> dict[str, Any]:
        """What a stored turn or event keeps of the verdict (no spans: they quote the words)."""
        return {
            "verdict": self.verdict.verdict,
            "categories": list(self.verdict.categories),
            "reasons": list(self.reasons),
            "level": self.verdict.level,
        }


def term_key(term: str) -> str:
    return " ".join(_WORD.findall(fold(term.strip()).text))


def rules_from_settings(settings: GuildSettings, default_level: ModerationLevel) -> GuildRules:
    """The moderation policy of a guild; one that never saved settings gets `default_level`."""
    level = settings.moderation_level if settings.updated_at else default_level
    extra = {
        category: list(terms)
        for category, terms in settings.blocked_terms.items()
        if category in CATEGORIES and terms
    }
    custom = list(settings.blocked_terms.get(ANY_CATEGORY, []))
    if custom:
        extra[EVERY_LEVEL_BLOCK] = [*extra.get(EVERY_LEVEL_BLOCK, []), *custom]
    exempt = [term for terms in settings.exempt_terms.values() for term in terms]
    return GuildRules(
        guild_id=settings.guild_id,
        policy=GuildPolicy(level=level, extra_terms=extra, exempt_terms=exempt),
        custom_terms=frozenset(term_key(term) for term in custom),
        links=settings.link_policy,
    )


RULES_TTL_S = 5.0
"""A guild's rules are read before every action and change rarely, so they are kept this long;
a change made through this engine applies at once (`forget`), one made by another program
within this time."""


class Guard:
    """Runs moderation for the engine, on the event loop: a check takes about 50 µs with the
    word lists and about a millisecond with the classifier, less than a hop to a worker thread
    costs on a busy machine (loading the classifier, once, takes longer)."""

    def __init__(
        self,
        moderator: Moderator,
        guilds: GuildRepository,
        default_level: ModerationLevel,
        *,
        rules_ttl_s: float = RULES_TTL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.moderator = moderator
        self._guilds = guilds
        self._default_level: ModerationLevel = default_level
        self._rules_ttl_s = rules_ttl_s
        self._clock = clock
        self._rules: dict[int, tuple[float, GuildRules]] = {}

    async def rules(self, guild_id: int) -> GuildRules:
        now = self._clock()
        kept = self._rules.get(guild_id)
        if kept is not None and now - kept[0] < self._rules_ttl_s:
            return kept[1]
        rules = rules_from_settings(await self._guilds.get(guild_id), self._default_level)
        self._rules[guild_id] = (now, rules)
        return rules

    def forget(self, guild_id: int) -> None:
        """Drop the kept rules of a guild whose settings just changed."""
        self._rules.pop(guild_id, None)

    def validate(self, rules: GuildRules) -> None:
        """InvalidInput unless the guild's word lists compile (letters and spaces only)."""
        try:
            self.moderator.check("", policy=rules.policy, classify=False)
        except ValueError as exc:
            raise InvalidInput(f"That word list cannot be used: {exc}.") from exc

    def check_many(self, texts: Sequence[str], rules: GuildRules) -> list[Checked]:
        verdicts = self.moderator.check_many(list(texts), None, rules.policy)
        return [
            _checked(text, verdict, rules) for text, verdict in zip(texts, verdicts, strict=True)
        ]

    def require_no_link(self, text: str, rules: GuildRules, what: str) -> None:
        """Titles and names: InvalidInput when they hold a link the guild does not allow."""
        if rules.links != "allow" and has_link(text):
            raise InvalidInput(
                f"{what} cannot hold a link on this server; remove it and try again."
            )

    def check(self, text: str, rules: GuildRules) -> Checked:
        return self.check_many([text], rules)[0]

    def require(self, text: str, rules: GuildRules, what: str) -> Checked:
        """The checked text, or ModerationBlocked with the reasons."""
        checked = self.check(text, rules)
        if checked.blocked:
            raise ModerationBlocked(checked.reasons, what)
        return checked

    def safe_line(self, kind: str, speaker: str | None, rules: GuildRules) -> str:
        lines = [line.format(name=speaker or "someone") for line in SAFE_LINES[kind]]
        for checked in self.check_many(lines, rules):
            if not checked.blocked:
                return checked.text
        return "…"


def _checked(text: str, verdict: ModerationVerdict, rules: GuildRules) -> Checked:
    reasons = list(verdict.reasons)
    flagged = [span.term for span in verdict.spans if span.category == EVERY_LEVEL_BLOCK]
    if flagged and rules.custom_terms and all(term in rules.custom_terms for term in flagged):
        slur = reason(EVERY_LEVEL_BLOCK, "block", verdict.level)
        words = ", ".join(f'"{term}"' for term in dict.fromkeys(flagged))
        reasons = [
            f"uses {words}, which this server's moderators have blocked" if item == slur else item
            for item in reasons
        ]
    if rules.links == "block" and verdict.verdict != "block" and has_link(text):
        verdict = verdict.model_copy(update={"verdict": "block", "redacted": None})
        reasons.append(LINKS_REFUSED)
    shown = verdict.redacted if verdict.verdict == "redact" and verdict.redacted else text
    return Checked(verdict, shown, tuple(reasons))
