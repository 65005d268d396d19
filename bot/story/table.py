"""Table manners: what one player may do with what belongs to another, in a shared story.

Voicing a character (a turn written "as" it):
- your own character: always (it joins the story if it was not in it);
- a character another member plays here: only that member; the byline says who plays whom,
  so nobody else writes as them, the story's owner included (the owner may take it out of the
  story with /story uncast, after which it is a shared character);
- a shared character (in the story, played by nobody: brought in with /story cast by someone
  who does not own it, or whose player left): anyone writing in the story;
- someone else's character that is not in the story: nobody, until it is cast, so bringing a
  member's character into a story is always a visible act of its own.

Moving past a model turn (writing while a model turn waits for Keep keeps its current
alternative, as if Keep were pressed): in free mode the alternatives are for whoever asked for
the turn to choose (as Keep and swipe are), so only they and the story's owner move past it;
anyone else is told to wait, until the turn has waited `hold_s` seconds since its newest
alternative, after which the table moves on without them. In round-robin the turn order
already says who writes next, so the member holding the turn always may.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from bot.errors import PermissionDenied, TurnInProgress
from storage.models import Character, Participant, Story, Turn


def pick_character(
    name: str, user_id: int, own: Character | None, linked: Sequence[Character]
) -> Character | None:
    """Which character a name means for this writer: their own, else the story's, else None
    (the caller then looks through the guild)."""
    if own is not None:
        return own
    wanted = name.strip().casefold()
    return next((c for c in linked if c.name.strip().casefold() == wanted), None)


def require_voice(
    character: Character,
    user_id: int,
    participants: Sequence[Participant],
    linked: Sequence[Character],
) -> None:
    """PermissionDenied unless `user_id` may write as `character` here (see the module)."""
    if character.owner_id == user_id:
        return
    player = next(
        (p for p in participants if p.active and p.character_id == character.id),
        None,
    )
    if player is not None and player.user_id != user_id:
        raise PermissionDenied(
            f'{player.display_name} plays "{character.name}" in this story, so only they '
            "write as that character. Nothing was saved."
        )
    if player is None and all(c.id != character.id for c in linked):
        raise PermissionDenied(
            f'"{character.name}" is someone else\'s character and is not in this story. '
            "Bring it in as a shared character with /story cast first. Nothing was saved."
        )


def require_move_on(
    story: Story,
    pending: Sequence[Turn],
    user_id: int,
    names: Mapping[int, str],
    now: float,
    hold_s: float,
) -> None:
    """TurnInProgress if a free-mode writer would keep a model turn someone else asked for
    while it is still theirs to choose (see the module). `pending` holds every pending
    alternative of the story."""
    if story.mode == "round_robin" or user_id == story.owner_id:
        return
    slots: dict[int, list[Turn]] = {}
    for turn in pending:
        if not turn.hidden:
            slots.setdefault(turn.slot, []).append(turn)
    for alternatives in slots.values():
        askers = {alt.author_id for alt in alternatives if alt.author_kind == "model"}
        if not askers or user_id in askers or None in askers:
            continue
        left = max(alt.created_at for alt in alternatives) + hold_s - now
        if left <= 0:
            continue
        first = min(alternatives, key=lambda alt: alt.alt_index)
        who = names.get(first.author_id or 0) or first.author_name or "Someone"
        raise TurnInProgress(
            f"{who}'s model turn is waiting for Keep or Reroll, and choosing is up to them. "
            f"Write again once they have chosen (or in {_seconds(left)}, when the story "
            "moves on without them). Nothing was saved."
        )


def _seconds(left: float) -> str:
    if left <= 90:
        return f"{math.ceil(left)} s"
    return f"{math.ceil(left / 60)} minutes"
