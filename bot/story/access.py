"""Who may read a story: the caller's view of the place it is played in.

A story lives in a channel, or in a thread of that channel. The front end knows what its caller
can see and passes it as a `CanView` predicate over (channel id, thread id or None); the engine
asks it before showing, recapping, exporting or listing a story found by id, so a story in a
private channel stays private to the people who can read that channel. The terminal, where the
one local user sees everything, passes `sees_everything` (or nothing).
"""

from __future__ import annotations

from collections.abc import Callable

from storage.models import Story

CanView = Callable[[int, "int | None"], bool]
"""Whether the caller can read (channel id, thread id or None)."""


def sees_everything(channel_id: int, thread_id: int | None) -> bool:
    """The terminal's view: its one user sees every story."""
    return True


def can_read(story: Story, can_view: CanView | None) -> bool:
    """Whether the caller may read `story`; None means no restriction (the terminal)."""
    return can_view is None or can_view(story.channel_id, story.thread_id)


def played_in(story: Story, place_id: int) -> bool:
    """Whether `place_id` is where the story is played (its thread, else its channel)."""
    return place_id == (story.thread_id or story.channel_id)
