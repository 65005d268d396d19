"""Round-robin order: whose turn it is, who is next, and until when.

Seats only grow (a member who leaves keeps their seat number, and one who rejoins sits at the
end), so the story stores the seat number of the writer, and the writer is found by walking
forward from it to the next member still present.
"""

from __future__ import annotations

from collections.abc import Sequence

from storage.models import Participant, Story


def current_writer(story: Story, participants: Sequence[Participant]) -> Participant | None:
    """Who holds the turn in a round-robin story (None in free mode or with nobody left)."""
    if story.mode != "round_robin":
        return None
    active = [p for p in participants if p.active]
    for participant in active:
        if participant.seat == story.current_seat:
            return participant
    return next_after(active, story.current_seat)


def next_after(participants: Sequence[Participant], seat: int) -> Participant | None:
    """The first present member after `seat`, wrapping around; None when nobody is present."""
    active = sorted((p for p in participants if p.active), key=lambda p: p.seat)
    for participant in active:
        if participant.seat > seat:
            return participant
    return active[0] if active else None


def deadline(story: Story, now: float) -> float | None:
    """When the turn that starts now times out; None when turns have no time limit."""
    if story.mode != "round_robin" or not story.turn_timeout_s:
        return None
    return now + story.turn_timeout_s
