"""Round-robin turns that time out.

Deadlines live in the database (`stories.turn_deadline`), so a restarted bot finds the ones that
passed while it was down. A front end calls `process_due` on a timer (the terminal: before each
command); each expired turn is skipped, or written by the model for the missing writer (as
their character when they play one) and kept at once, and the turn passes on. The model's own
seat is due as soon as it comes up, and is written here too (bot/story/coauthor.py).
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.story.coauthor import Coauthor
from bot.story.core import current_pending
from bot.story.failures import log_failure, user_errors
from bot.story.from_records import TIMEOUT_PARAM
from bot.story.generation import Ask
from bot.story.results import DeadlineAction, DeadlineEvent
from bot.story.turns import current_writer, deadline, is_model, next_after, seats
from generators.errors import GeneratorError
from storage.errors import Conflict
from storage.models import Participant, Story, Turn


class Deadlines(Coauthor):
    @user_errors
    async def process_due(self, now: float | None = None) -> list[DeadlineEvent]:
        """Handle every active story whose turn deadline is at or before `now`.

        A story busy with another change (in this process or another on the same database) is
        left for the next call. The story is read again under its lock, so a deadline another
        process handled meanwhile is not handled twice.
        """
        moment = self.clock() if now is None else now
        events = []
        for due in await self.storage.stories.list_due_deadlines(moment):
            async with self.locks.try_hold(due.id) as held:
                event = await self._expire(due.id, moment) if held else None
            if event is not None:
                events.append(event)
        return events

    async def _expire(self, story_id: int, now: float) -> DeadlineEvent | None:
        story = await self.storage.stories.get(story_id)
        if (
            story is None
            or story.status != "active"
            or story.turn_deadline is None
            or story.turn_deadline > now
        ):
            return None
        participants = await self._participants(story.id)
        missed = current_writer(story, participants)
        if missed is None:
            await self.storage.stories.set_turn(story.id, story.current_seat, None)
            return None
        if is_model(missed):
            return await self._model_seat_turn(story, participants, missed)
        turn = None
        message = f"{missed.display_name}'s time ran out"
        if story.timeout_action == "ai":
            try:
                turn, story = await self._write_for(story, participants, missed)
                message += ", so the model wrote their turn."
            except GeneratorError as exc:
                log_failure(f"a stand-in turn in story {story.id}", exc)
                message += ", and the model could not write for them, so it was skipped."
            except Conflict:
                return None
        else:
            message += ", so their turn was skipped."
        if turn is None:
            story = await self._advance(story, participants, missed.seat)
        action: DeadlineAction = "ai_wrote" if turn is not None else "skipped"
        return await self._seat_event(story, participants, missed, turn, action, message)

    async def _write_for(
        self, story: Story, participants: Sequence[Participant], missed: Participant
    ) -> tuple[Turn, Story]:
        """The model's turn for the missed writer, kept, with the turn passed on: one
        transaction, so a crash leaves no stand-in (the next tick writes it) or exactly one
        with the seat moved once."""
        speaker = None
        if missed.character_id is not None:
            speaker = await self.storage.characters.get(missed.character_id)
        ask = Ask(
            kind="dialogue" if speaker else "continue",
            requester_id=missed.user_id,
            requester_name=missed.display_name,
            speaker=speaker,
            extra_params={TIMEOUT_PARAM: True},
        )
        rules = await self.guard.rules(story.guild_id)
        inputs = await self._model_inputs(story.id, ask.requester_id)
        pending = current_pending(inputs.pending)
        generated = await self._generate(story, ask, rules, inputs=inputs, pending=pending)
        following = next_after(seats(story, participants), missed.seat) or missed
        _, turn, moved = await self.storage.turns.stand_in(
            story.id,
            self._draft(ask, generated),
            [p.id for p in pending],
            missed.user_id,
            seat=following.seat,
            turn_deadline=deadline(story, self.clock(), following.seat),
            expect_seat=story.current_seat,
        )
        return turn, moved
