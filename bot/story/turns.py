"""Round-robin order: whose turn it is, who is next, and until when.

Seats only grow (a member who leaves keeps their seat number, and one who rejoins sits at the
end), so the story stores the seat number of the writer, and the writer is found by walking
forward from it to the next member still present. A story may give the model a seat of its
own (`Story.model_seat`, numbered like the members'); it takes part in the order as a member
who never leaves, whose turn is due the moment it comes up (bot/story/coauthor.py writes it).
"""

from __future__ import annotations

from collections.abc import Sequence

from storage.models import Participant, Story

MODEL_USER_ID = -1
"""The user id of the model's seat; Discord ids are positive, so it names nobody."""
MODEL_NAME = "the model"


def model_member(story: Story) -> Participant | None:
    """The model's seat as a member of the order, when the story gives it one."""
    if story.model_seat is None:
        return None
    return Participant(story.id, MODEL_USER_ID, MODEL_NAME, story.model_seat, 0.0, None, None)


def is_model(participant: Participant | None) -> bool:
    return participant is not None and participant.user_id == MODEL_USER_ID


def seats(story: Story, participants: Sequence[Participant]) -> list[Participant]:
    """The present members and the model's seat, in seat order: the round-robin order."""
    model = model_member(story)
    active = [p for p in participants if p.active and not is_model(p)]
    return sorted([*active, model] if model else active, key=lambda p: p.seat)


def current_writer(story: Story, participants: Sequence[Participant]) -> Participant | None:
    """Who holds the turn in a round-robin story (None in free mode or with nobody left); the
    model's seat is a member here (`is_model`). Nobody holds it when only the model is left."""
    if story.mode != "round_robin":
        return None
    active = seats(story, participants)
    if all(is_model(p) for p in active):
        return None
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


def deadline(story: Story, now: float, seat: int | None = None) -> float | None:
    """When the turn that starts now at `seat` times out; None when turns have no time limit.
    The model's seat is due at once: the deadline loop writes it (stored, so after a restart
    too)."""
    if story.mode != "round_robin":
        return None
    if seat is not None and seat == story.model_seat:
        return now
    if not story.turn_timeout_s:
        return None
    return now + story.turn_timeout_s
