"""The custom ids of the persistent buttons, written and read here only.

A button's custom id carries what it acts on (`tw:keep:<turn_id>`, `tw:page:<story_id>:<page>`),
so a click is understood after a restart; bot/discord/buttons.py matches clicks against these
templates and builds buttons with these ids.
"""

from __future__ import annotations

TURN_ACTIONS = ("keep", "reroll", "prev", "next", "twist")
TURN_TEMPLATE = rf"tw:(?P<action>{'|'.join(TURN_ACTIONS)}):(?P<turn>[0-9]{{1,20}})"
PAGE_TEMPLATE = r"tw:page:(?P<story>[0-9]{1,20}):(?P<page>[0-9]{1,9})"


def turn_custom_id(action: str, turn_id: int) -> str:
    """A button under a pending turn: one of TURN_ACTIONS on the turn."""
    return f"tw:{action}:{turn_id}"


def page_custom_id(story_id: int, page: int) -> str:
    """A ◀ / ▶ button of `/story show`: that page of the story."""
    return f"tw:page:{story_id}:{page}"
