"""Which mentions in the bot's messages would actually ping, given their allowed_mentions.

Discord pings for every mention in the content unless the request's `allowed_mentions`
restricts it; a missing `allowed_mentions` means the default, which pings everything.
Each content write is checked (a deferred response first gets its text through an edit).
Ephemeral messages are skipped: only the invoking user can see them. A ping of a user the
request named in `allowed_mentions.users` is deliberate (that is how a bot pings exactly one
person), so it is not a leak; every other ping is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .state import Message

MENTION = re.compile(r"@everyone|@here|<@&(\d+)>|<@!?(\d+)>")


@dataclass(frozen=True)
class MentionLeak:
    message_id: int
    channel_id: int
    interaction_id: int | None
    content: str
    pings: tuple[str, ...]


def pings(content: str, allowed: dict[str, Any] | None) -> tuple[str, ...]:
    """The mention tokens in `content` that `allowed` (Discord's allowed_mentions) lets ping."""
    if allowed is None:
        parse = {"everyone", "users", "roles"}
        users: set[str] = set()
        roles: set[str] = set()
    else:
        parse = set(allowed.get("parse", []))
        users = {str(x) for x in allowed.get("users", [])}
        roles = {str(x) for x in allowed.get("roles", [])}
    found = []
    for match in MENTION.finditer(content):
        role_id, user_id = match.groups()
        if role_id is not None:
            pinged = "roles" in parse or role_id in roles
        elif user_id is not None:
            pinged = "users" in parse or user_id in users
        else:
            pinged = "everyone" in parse
        if pinged:
            found.append(match.group(0))
    return tuple(found)


def leaks(messages: list[Message], bot_id: int) -> list[MentionLeak]:
    found = []
    for message in messages:
        if message.ephemeral or (message.author.id != bot_id and message.webhook_id is None):
            continue
        for revision in message.revisions:
            named = {str(x) for x in (revision.allowed_mentions or {}).get("users", [])}
            tokens = tuple(
                token
                for token in pings(revision.content, revision.allowed_mentions)
                if token.strip("<@!>") not in named
            )
            if tokens:
                found.append(
                    MentionLeak(
                        message.id,
                        message.channel_id,
                        message.interaction_id,
                        revision.content,
                        tokens,
                    )
                )
    return found
