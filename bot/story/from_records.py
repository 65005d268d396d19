"""Stored records (storage.models) -> the results front ends render (bot/story/results.py).

Bylines included: a byline says who a turn is by, the person who wrote it or the model and the
person who kept its words (an author who left still gets their byline, from their participant
row).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bot.story.results import (
    CharacterView,
    ModEventView,
    ParticipantView,
    StoryInfo,
    TurnView,
)
from bot.story.turns import current_writer
from storage.models import Character, ModerationEvent, Participant, Story, Turn

TIMEOUT_PARAM = "written_for_timeout"
"""Set in the params of a turn the model wrote because its writer's time ran out."""
MODEL_SEAT_PARAM = "model_seat"
"""Set (to its count) in the params of a turn the model wrote in its own round-robin seat."""
FALLBACK_PARAM = "fallback"
"""Set in the params of a safe line used because every candidate failed moderation."""


def name_of(user_id: int | None, names: Mapping[int, str]) -> str:
    if user_id is None:
        return "someone"
    return names.get(user_id) or f"user {user_id}"


def byline(turn: Turn, names: Mapping[int, str]) -> str:
    if turn.author_kind == "user":
        author = turn.author_name or name_of(turn.author_id, names)
        return f"{author} as {turn.character_name}" if turn.character_name else author
    model = f"model {turn.model_id or 'unknown'}"
    if turn.character_name:
        model += f" as {turn.character_name}"
    asked_by = turn.author_name or name_of(turn.author_id, names)
    if turn.params.get(MODEL_SEAT_PARAM):
        return f"{model}, in its own seat"
    if turn.params.get(TIMEOUT_PARAM):
        return f"{model}, written for {asked_by} when their turn timed out"
    if turn.state == "pending":
        return f"{model}, asked by {asked_by} (not kept yet)"
    return f"{model}, kept by {name_of(turn.accepted_by, names)}"


def turn_view(turn: Turn, names: Mapping[int, str], alternatives: Sequence[Turn] = ()) -> TurnView:
    """The view of `turn`; `alternatives` are its slot's candidates when it is pending."""
    siblings = [alt.id for alt in alternatives]
    pending = turn.state == "pending" and turn.id in siblings
    return TurnView(
        id=turn.id,
        story_id=turn.story_id,
        slot=turn.slot,
        kind=turn.kind,
        text=turn.text,
        author_kind=turn.author_kind,
        author_id=turn.author_id,
        author_name=turn.author_name or name_of(turn.author_id, names),
        byline=byline(turn, names),
        character_name=turn.character_name,
        model_id=turn.model_id,
        state=turn.state,
        alt_index=siblings.index(turn.id) + 1 if pending else 1,
        alt_count=len(siblings) if pending else 1,
        accepted_by=turn.accepted_by,
        accepted_by_name=None if turn.accepted_by is None else name_of(turn.accepted_by, names),
        hidden=turn.hidden,
        fallback=bool(turn.params.get(FALLBACK_PARAM)),
        created_at=turn.created_at,
    )


def participant_view(participant: Participant, characters: Mapping[int, str]) -> ParticipantView:
    return ParticipantView(
        user_id=participant.user_id,
        name=participant.display_name,
        seat=participant.seat,
        active=participant.active,
        character_name=(
            characters.get(participant.character_id) if participant.character_id else None
        ),
    )


def story_info(
    story: Story,
    participants: Sequence[Participant],
    characters: Mapping[int, str] | None = None,
) -> StoryInfo:
    """The story's view; `participants` include those who left (for the owner's name)."""
    names = {p.user_id: p.display_name for p in participants}
    by_id = characters or {}
    writer = current_writer(story, participants)
    return StoryInfo(
        id=story.id,
        guild_id=story.guild_id,
        channel_id=story.channel_id,
        thread_id=story.thread_id,
        place_id=story.place_id,
        title=story.title,
        genre=story.genre,
        mood=story.mood,
        premise=story.premise,
        mode=story.mode,
        status=story.status,
        owner_id=story.owner_id,
        owner_name=name_of(story.owner_id, names),
        turn_timeout_s=story.turn_timeout_s,
        timeout_action=story.timeout_action,
        reroll_policy=story.reroll_policy,
        style_matching=story.style_matching,
        model_id=story.model_id,
        model_seat=story.model_seat is not None,
        model_voice=story.model_voice,
        participants=tuple(participant_view(p, by_id) for p in participants if p.active),
        current_writer=None if writer is None else participant_view(writer, by_id),
        turn_deadline=story.turn_deadline,
        created_at=story.created_at,
        ended_at=story.ended_at,
    )


def character_view(character: Character) -> CharacterView:
    return CharacterView(
        id=character.id,
        guild_id=character.guild_id,
        owner_id=character.owner_id,
        name=character.name,
        description=character.description,
        personality=character.personality,
        speech_style=character.speech_style,
        backstory=character.backstory,
        first_message=character.first_message,
        tags=character.tags,
        imported=character.card_json is not None,
        created_at=character.created_at,
        updated_at=character.updated_at,
    )


def event_view(event: ModerationEvent) -> ModEventView:
    return ModEventView(
        id=event.id,
        guild_id=event.guild_id,
        kind=event.kind,
        source=event.source,
        story_id=event.story_id,
        turn_id=event.turn_id,
        user_id=event.user_id,
        excerpt=event.excerpt,
        reasons=tuple(str(item) for item in event.verdict.get("reasons", ())),
        status=event.status,
        resolution=event.resolution,
        created_at=event.created_at,
    )
