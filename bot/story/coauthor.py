"""The model as a co-author: a seat of its own in a round-robin story.

When the turn comes to the model's seat its deadline is "now" (bot/story/turns.py), so the
deadline loop (on Discord; the terminal checks before each command) finds it in the database,
after a restart too, and the model writes. What it writes follows `Story.model_voice`:
narration; a character in play that no member plays, taking them in turn (narration when there
is none); or those, with every fifth of its own turns a twist.

Its turn is kept at once rather than left pending for Keep: the order has already moved on to
the next member, whose next turn would keep it anyway, and a kept turn can still be undone or
reported. It is stored with the seat passed on in one transaction (the stand-in's), so a crash
leaves either no turn (the next tick writes it) or one turn with the seat moved once.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.story.core import current_pending
from bot.story.failures import log_failure
from bot.story.from_records import MODEL_SEAT_PARAM, participant_view
from bot.story.generation import Ask, Generation
from bot.story.results import DeadlineAction, DeadlineEvent
from bot.story.turns import MODEL_NAME, MODEL_USER_ID, deadline, next_after, seats
from generators.errors import GeneratorError
from storage.errors import Conflict
from storage.models import Character, Participant, Story, Turn

TWIST_EVERY = 5
"""With the `mixed` voice, every fifth of the model's own turns is a twist."""


def model_ask(
    story: Story, ordinal: int, participants: Sequence[Participant], cast: Sequence[Character]
) -> Ask:
    """The request for the model's `ordinal`-th own turn (0 for its first)."""
    params = {MODEL_SEAT_PARAM: ordinal + 1}
    if story.model_voice == "mixed" and ordinal % TWIST_EVERY == TWIST_EVERY - 1:
        return Ask("twist", MODEL_USER_ID, MODEL_NAME, extra_params=params)
    played = {p.character_id for p in participants if p.active and p.character_id is not None}
    free = [character for character in cast if character.id not in played]
    if story.model_voice != "narration" and free:
        speaker = free[ordinal % len(free)]
        return Ask("dialogue", MODEL_USER_ID, MODEL_NAME, speaker, extra_params=params)
    return Ask("continue", MODEL_USER_ID, MODEL_NAME, extra_params=params)


class Coauthor(Generation):
    async def _model_seat_turn(
        self, story: Story, participants: Sequence[Participant], seat: Participant
    ) -> DeadlineEvent | None:
        """The model's own turn, written and kept, with the turn passed to the next member; a
        model that is down skips its seat. None when someone else moved the turn first."""
        try:
            turn, story = await self._write_in_model_seat(story, participants, seat)
            message = "The model wrote its turn."
        except GeneratorError as exc:
            log_failure(f"the model's own turn in story {story.id}", exc)
            turn = None
            message = "The model could not write its turn, so its seat was skipped."
            story = await self._advance(story, participants, seat.seat)
        except Conflict:
            return None
        action: DeadlineAction = "model_wrote" if turn is not None else "skipped"
        return await self._seat_event(story, participants, seat, turn, action, message)

    async def _seat_event(
        self,
        story: Story,
        participants: Sequence[Participant],
        seat: Participant,
        turn: Turn | None,
        action: DeadlineAction,
        message: str,
    ) -> DeadlineEvent:
        """What a front end shows when a seat's turn was written for it or skipped: the
        message, with whose turn it is now."""
        info = await self._info(story, participants)
        if info.current_writer is not None:
            message += f" It's {info.current_writer.name}'s turn."
        names = {p.user_id: p.display_name for p in participants}
        return DeadlineEvent(
            story=info,
            action=action,
            missed=participant_view(seat, {}),
            turn=None if turn is None else await self._view(turn, names),
            message=message,
        )

    async def _write_in_model_seat(
        self, story: Story, participants: Sequence[Participant], seat: Participant
    ) -> tuple[Turn, Story]:
        ordinal = await self.storage.turns.count_with_param(story.id, MODEL_SEAT_PARAM)
        inputs = await self._model_inputs(story.id, MODEL_USER_ID)
        ask = model_ask(story, ordinal, participants, inputs.characters)
        rules = await self.guard.rules(story.guild_id)
        pending = current_pending(inputs.pending)
        generated = await self._generate(story, ask, rules, inputs=inputs, pending=pending)
        following = next_after(seats(story, participants), seat.seat) or seat
        _, turn, moved = await self.storage.turns.stand_in(
            story.id,
            self._draft(ask, generated),
            [p.id for p in pending],
            MODEL_USER_ID,
            seat=following.seat,
            turn_deadline=deadline(story, self.clock(), following.seat),
            expect_seat=story.current_seat,
        )
        return turn, moved
