"""Result views for the Discord tests, built with every field so renders see real objects."""

from __future__ import annotations

from bot.story.results import StoryInfo, TurnView

BIGGEST_ID = 2**63 - 1
"""Discord ids and our ids fit 64 bits; custom ids must hold the longest."""


def turn(alt_index: int = 1, alt_count: int = 1, turn_id: int = BIGGEST_ID) -> TurnView:
    return TurnView(
        id=turn_id,
        story_id=1,
        slot=1,
        kind="narration",
        text="x",
        author_kind="model",
        author_id=1,
        author_name="a",
        byline="b",
        character_name=None,
        model_id="m",
        state="pending",
        alt_index=alt_index,
        alt_count=alt_count,
        accepted_by=None,
        accepted_by_name=None,
        hidden=False,
        fallback=False,
        created_at=0.0,
    )


def story(story_id: int = BIGGEST_ID) -> StoryInfo:
    return StoryInfo(
        id=story_id,
        guild_id=1,
        channel_id=2,
        thread_id=None,
        place_id=2,
        title="T",
        genre="mystery",
        mood=None,
        premise="",
        mode="free",
        status="active",
        owner_id=3,
        owner_name="o",
        turn_timeout_s=None,
        timeout_action="skip",
        reroll_policy="owner",
        style_matching=False,
        model_id=None,
        participants=(),
        current_writer=None,
        turn_deadline=None,
        created_at=0.0,
        ended_at=None,
    )
