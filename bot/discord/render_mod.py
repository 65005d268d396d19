"""The moderation queue, decisions and a server's rules as messages (moderators only see them)."""

from __future__ import annotations

from bot.discord.render import Out, text_messages
from bot.story.results import GuildModeration, ModEventView, ModQueue
from storage.models import ANY_CATEGORY, TermLists

EXCERPT_CHARS = 300
LINK_WORDS = {
    "allow": "allowed everywhere",
    "turns": "allowed in story text, not in titles or names",
    "block": "not allowed",
}


def queue_messages(queue: ModQueue) -> list[Out]:
    if not queue.events:
        return text_messages("The moderation queue is empty.")
    return text_messages("\n\n".join(event_text(event) for event in queue.events))


def event_text(event: ModEventView) -> str:
    where = f" on turn #{event.turn_id}" if event.turn_id else ""
    story = f" in story #{event.story_id}" if event.story_id else ""
    who = f" by <@{event.user_id}>" if event.user_id else ""
    lines = [f"**Event {event.id}**: {event.kind} ({event.source}){where}{story}{who}"]
    if event.reasons:
        lines.append("Why: " + "; ".join(event.reasons))
    if event.excerpt:
        excerpt = " ".join(event.excerpt.split())[:EXCERPT_CHARS]
        lines.append(f"> {excerpt}")
    return "\n".join(lines)


def resolved_text(event: ModEventView, message_removed: bool) -> str:
    text = f"Event {event.id} is {event.status}"
    if event.resolution:
        text += f" ({event.resolution})"
    text += "."
    if event.resolution == "hidden":
        if message_removed:
            text += " Its message in the channel was removed."
        else:
            text += (
                " The turn no longer shows in /story show or exports; delete its message in "
                "the channel if it is still there."
            )
    return text


def rules_text(rules: GuildModeration) -> str:
    default = "" if rules.saved else " (default)"
    return "\n".join(
        [
            f"**Level:** {rules.level}{default}",
            f"**Blocked words:** {_terms(rules.blocked_terms)}",
            f"**Exempt words:** {_terms(rules.exempt_terms)}",
            f"**Links:** {LINK_WORDS.get(rules.link_policy, rules.link_policy)}",
        ]
    )


def _terms(lists: TermLists) -> str:
    shown = [
        ", ".join(words) if key == ANY_CATEGORY else f"{key}: {', '.join(words)}"
        for key, words in lists.items()
    ]
    return "; ".join(shown) or "none"
