"""What each moderation level does with each category, and the sentences users read about it.

`family` blocks every listed category, profanity included. Redacting profanity would keep the
story flowing, but a masked `████` in a children's story still says a swear word was there and
invites people to probe the filter; a block instead makes the generator write another candidate
and tells a user exactly why their turn was refused, which suits a family server better.
`teen` hides profanity and graphic violence, so a horror turn survives with a few words masked,
and blocks slurs, sexual content and self-harm. `mature` allows profanity, violence and sexual
content between adults, and still blocks slurs, self-harm and anything sexual about minors.
Ordinary dark-fiction words (kill, blood, dead, murder, ghost, knife, scream) are in no list, so
they pass at every level.
"""

from __future__ import annotations

from typing import cast, get_args

from generators.schemas import ModerationLevel, VerdictName

LEVELS: dict[str, dict[str, VerdictName]] = {
    "family": {
        "profanity": "block",
        "slurs": "block",
        "sexual": "block",
        "sexual_minors": "block",
        "violence": "block",
        "self_harm": "block",
    },
    "teen": {
        "profanity": "redact",
        "slurs": "block",
        "sexual": "block",
        "sexual_minors": "block",
        "violence": "redact",
        "self_harm": "block",
    },
    "mature": {
        "profanity": "allow",
        "slurs": "block",
        "sexual": "allow",
        "sexual_minors": "block",
        "violence": "allow",
        "self_harm": "block",
    },
}

SEVERITY: dict[str, int] = {"allow": 0, "redact": 1, "block": 2}

_WHAT = {
    "profanity": "contains profanity",
    "slurs": "contains a slur",
    "sexual": "contains sexual content",
    "sexual_minors": "contains sexual content involving minors",
    "violence": "contains graphic violence",
    "self_harm": "talks about self-harm or suicide",
}


def check_level(level: str) -> ModerationLevel:
    if level not in get_args(ModerationLevel):
        raise ValueError(f"unknown moderation level {level!r}; expected family, teen or mature")
    return cast(ModerationLevel, level)  # the check above; get_args does not narrow


def reason(category: str, action: VerdictName, level: str) -> str:
    """A sentence for the user, e.g. 'contains a slur, which is not allowed at the teen level'."""
    if action == "redact":
        return f"{_WHAT[category]}, which is hidden at the {level} level"
    return f"{_WHAT[category]}, which is not allowed at the {level} level"
