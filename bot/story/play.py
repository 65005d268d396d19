"""Playing a story: start it, join and leave, write turns, undo, skip, pause, resume, end, and
change its settings.

A written turn is moderated, then stored before anything else happens, so nothing that
follows (a model turn, a deadline) can lose it. In free mode writing joins the story; in
round-robin only the member holding the turn may write, and the turn then passes on.
"""

from __future__ import annotations

import contextlib
from dataclasses import asdict, replace
from typing import Any

from bot.errors import (
    InvalidInput,
    NotParticipant,
    PermissionDenied,
    StoryAlreadyRunning,
    StoryEnded,
)
from bot.story.core import current_pending, display_name, require_active, require_owner
from bot.story.failures import generator_error, user_errors
from bot.story.from_records import participant_view
from bot.story.generation import Ask, Generation
from bot.story.guard import GuildRules
from bot.story.results import (
    MembershipResult,
    SettingsResult,
    SkipResult,
    StartCheck,
    StartResult,
    StatusResult,
    UndoResult,
    WriteResult,
)
from bot.story.table import require_move_on
from bot.story.text import clean_text, optional_text
from bot.story.turns import current_writer, deadline, is_model, next_after, seats
from generators.errors import GeneratorError
from generators.schemas import GENRES, MOODS
from storage.errors import Conflict, StorageError
from storage.models import Story, StorySettings, TurnDraft

MODES = ("free", "round_robin")
TIMEOUT_ACTIONS = ("skip", "ai")
REROLL_POLICIES = ("owner", "vote")
MODEL_VOICES = ("narration", "characters", "mixed")
MIN_TIMEOUT_S = 10
MAX_TIMEOUT_S = 7 * 24 * 3600
SETTINGS = (
    "title",
    "mood",
    "mode",
    "turn_timeout_s",
    "timeout_action",
    "reroll_policy",
    "style_matching",
    "model_seat",
    "model_voice",
)


def check_settings(**values: Any) -> dict[str, Any]:
    """Story settings checked one by one, with a sentence naming the bad one."""
    checked = dict(values)
    choices = {
        "genre": GENRES,
        "mode": MODES,
        "timeout_action": TIMEOUT_ACTIONS,
        "reroll_policy": REROLL_POLICIES,
        "model_voice": MODEL_VOICES,
    }
    for key, allowed in choices.items():
        if key in values and values[key] not in allowed:
            what = key.replace("_", " ")
            raise InvalidInput(
                f"Unknown {what} {values[key]!r}; choose one of {', '.join(allowed)}."
            )
    if values.get("mood") is not None and values["mood"] not in MOODS:
        raise InvalidInput(f"Unknown mood {values['mood']!r}; choose one of {', '.join(MOODS)}.")
    timeout = values.get("turn_timeout_s")
    if timeout is not None and (
        not isinstance(timeout, int) or not MIN_TIMEOUT_S <= timeout <= MAX_TIMEOUT_S
    ):
        raise InvalidInput(
            f"A turn timeout must be a whole number of seconds from {MIN_TIMEOUT_S} to "
            f"{MAX_TIMEOUT_S:,} (a week)."
        )
    if "title" in values:
        checked["title"] = clean_text(values["title"], 200, "The title", single_line=True).text
    for flag in ("style_matching", "model_seat"):
        if flag in values:
            checked[flag] = bool(values[flag])
    return checked


class Play(Generation):
    @user_errors
    async def start(
        self,
        guild_id: int,
        channel_id: int,
        user_id: int,
        user_name: str,
        settings: StorySettings,
        *,
        ai_opening: bool = False,
        thread_id: int | None = None,
    ) -> StartResult:
        """Start a story here; its owner takes the first seat. With `ai_opening` the model
        writes a pending opening (a model that is down leaves the story started without one)."""
        settings = replace(settings, **check_settings(**asdict(settings)))
        rules = await self.guard.rules(guild_id)
        vetted = await self._vet_start(guild_id, user_id, settings.title, settings.premise, rules)
        name = display_name(user_id, user_name)
        try:
            story = await self.storage.stories.create(
                guild_id=guild_id,
                channel_id=channel_id,
                thread_id=thread_id,
                owner_id=user_id,
                settings=replace(settings, title=vetted.title, premise=vetted.premise),
            )
        except Conflict as exc:
            raise StoryAlreadyRunning() from exc
        try:
            owner = await self.storage.stories.add_participant(story.id, user_id, name)
        except BaseException:
            # Without its owner the story would block the channel; end it if the database lets
            # us, and report the original failure either way.
            with contextlib.suppress(StorageError):
                await self.storage.stories.set_status(story.id, "ended")
            raise
        ends = deadline(story, self.clock())
        if ends is not None:
            story = await self.storage.stories.set_turn(story.id, owner.seat, ends)
        notices: list[str] = []
        opening = None
        if ai_opening:
            try:
                async with self.locks.hold(story.id):
                    turn, _, _ = await self._add_model_turn(
                        story, Ask("opening", user_id, name), rules
                    )
                opening = await self._view(turn)
            except GeneratorError as exc:
                notices.append(
                    f"{generator_error(exc)} The story has started; write the first turn."
                )
        return StartResult(story=await self._info(story), opening=opening, notices=tuple(notices))

    @user_errors
    async def vet_start(
        self, guild_id: int, user_id: int, title: str, premise: str = ""
    ) -> StartCheck:
        """The title and premise of a story about to start, checked and moderated (a refusal is
        recorded and raised), so a front end can refuse before it opens a thread or a channel
        and name what it opens with the moderated title."""
        checked = check_settings(title=title)["title"]
        return await self._vet_start(guild_id, user_id, checked, premise)

    async def _vet_start(
        self,
        guild_id: int,
        user_id: int,
        title: str,
        premise: str,
        rules: GuildRules | None = None,
    ) -> StartCheck:
        about = optional_text(premise, 2000, "The premise").text
        rules = rules or await self.guard.rules(guild_id)
        self.guard.require_no_link(title, rules, "The story's title")
        title_checked, premise_checked = self.guard.check_many([title, about], rules)
        for checked in (title_checked, premise_checked):
            if checked.blocked:
                raise await self._refuse(
                    checked, rules, "user_input", "The story's title or premise", user_id=user_id
                )
        return StartCheck(title=title_checked.text, premise=premise_checked.text)

    @user_errors
    async def join(self, channel_id: int, user_id: int, user_name: str) -> MembershipResult:
        """Take the next seat (a member who left rejoins at the end of the order)."""
        story = await self._story_here(channel_id)
        name = display_name(user_id, user_name)
        before = await self._participants(story.id)
        already = any(p.user_id == user_id and p.active for p in before)
        had_writer = current_writer(story, before) is not None
        member = await self.storage.stories.add_participant(story.id, user_id, name)
        if story.mode == "round_robin" and not had_writer:
            story = await self.storage.stories.set_turn(
                story.id,
                member.seat,
                deadline(story, self.clock()) if story.status == "active" else None,
            )
        return MembershipResult(
            story=await self._info(story),
            user_id=user_id,
            user_name=name,
            joined=True,
            changed=not already,
        )

    @user_errors
    async def leave(self, channel_id: int, user_id: int) -> MembershipResult:
        """Leave the story; leaving while holding the round-robin turn passes it on."""
        story = await self._story_here(channel_id)
        participants = await self._participants(story.id)
        me = next((p for p in participants if p.user_id == user_id and p.active), None)
        if me is None:
            raise NotParticipant("You are not in this story.")
        writer = current_writer(story, participants)
        await self.storage.stories.remove_participant(story.id, user_id)
        passed = writer is not None and writer.user_id == user_id
        if passed:
            remaining = [p for p in participants if p.user_id != user_id]
            if next_after(seats(story, remaining), me.seat) is None:
                story = await self.storage.stories.set_turn(story.id, story.current_seat, None)
            else:
                story = await self._advance(story, remaining, me.seat)
        return MembershipResult(
            story=await self._info(story),
            user_id=user_id,
            user_name=me.display_name,
            joined=False,
            changed=True,
            passed_turn=passed,
        )

    @user_errors
    async def write(
        self,
        channel_id: int,
        user_id: int,
        user_name: str,
        text: str,
        character_name: str | None = None,
    ) -> WriteResult:
        """Add the user's turn: moderated, stored, then the story moves on past any pending
        model turn (keeping the alternative shown last) and, in round-robin, to the next seat.
        Who may write as a character, and past a model turn someone else asked for, follows
        the table's manners (bot/story/table.py)."""
        story, participants = await self._playable_story_with_people(channel_id)
        cleaned = clean_text(text, self.options.max_turn_chars)
        rules = await self.guard.rules(story.guild_id)
        checked = self.guard.check(cleaned.text, rules)
        if checked.blocked:
            raise await self._refuse(
                checked, rules, "user_input", "Your turn", story_id=story.id, user_id=user_id
            )
        writer = self._require_writer(story, participants, user_id)
        name = display_name(user_id, user_name)
        character = None
        if character_name and character_name.strip():
            character = await self._voiced_character(story, participants, character_name, user_id)
        async with self.locks.hold(story.id):
            waiting = await self.storage.turns.pending_for_story(story.id)
            require_move_on(
                story,
                waiting,
                user_id,
                {p.user_id: p.display_name for p in participants},
                self.clock(),
                self.options.pending_turn_hold_s,
            )
            if not any(
                p.user_id == user_id and p.active and p.display_name == name for p in participants
            ):
                await self.storage.stories.add_participant(story.id, user_id, name)
                participants = await self._participants(story.id)
            if character is not None:
                await self.storage.characters.link(story.id, character.id, user_id)
            pending = current_pending(waiting)
            kept_turns, turn = await self.storage.turns.keep_and_add(
                story.id,
                TurnDraft(
                    author_kind="user",
                    text=checked.text,
                    author_id=user_id,
                    author_name=name,
                    kind="dialogue" if character else "narration",
                    character_id=character.id if character else None,
                    character_name=character.name if character else None,
                    moderation=None if checked.verdict.verdict == "allow" else checked.record(),
                ),
                [p.id for p in pending],
                user_id,
            )
            kept = kept_turns[-1] if kept_turns else None
            if writer is not None:
                story = await self._advance(story, participants, writer.seat)
        await self._observe(story.guild_id, user_id, checked.text, story.genre, turn.character_name)
        notices = [cleaned.notice] if cleaned.notice else []
        if checked.redacted:
            notices.append(f"Some words were hidden: {'; '.join(checked.reasons)}.")
        names = {p.user_id: p.display_name for p in participants}
        return WriteResult(
            story=await self._info(story, participants),
            turn=await self._view(turn, names),
            auto_kept=None if kept is None else await self._view(kept, names),
            notices=tuple(notices),
        )

    @user_errors
    async def skip(
        self, channel_id: int, user_id: int, *, is_moderator: bool = False
    ) -> SkipResult:
        """Round-robin: pass the turn on (the holder passing theirs, or the owner/a moderator)."""
        story, participants = await self._playable_story_with_people(channel_id)
        if story.mode != "round_robin":
            raise InvalidInput("Only round-robin stories have turns to skip.")
        writer = current_writer(story, participants)
        if writer is None:
            raise InvalidInput("Nobody holds the turn; /story join to take it.")
        if writer.user_id != user_id:
            require_owner(story, user_id, is_moderator, "skip someone else's turn")
        async with self.locks.hold(story.id):
            story = await self._advance(story, participants, writer.seat)
        return SkipResult(
            story=await self._info(story, participants), skipped=participant_view(writer, {})
        )

    @user_errors
    async def undo(
        self, channel_id: int, user_id: int, *, is_moderator: bool = False
    ) -> UndoResult:
        """Remove the last turn: a pending model turn with all its alternatives, else the last
        accepted turn. In round-robin the turn goes back to whoever wrote or asked for it."""
        story = await self._story_here(channel_id)
        require_owner(story, user_id, is_moderator, "undo a turn")
        if story.status == "ended":
            raise StoryEnded()
        async with self.locks.hold(story.id):
            removed = await self.storage.turns.discard_pending(story.id)
            if not removed:
                last = await self.storage.turns.undo_last(story.id)
                removed = [] if last is None else [last]
            if not removed:
                raise InvalidInput("There is nothing to undo yet.")
            if story.status == "active":
                story = await self._give_turn_to(story, removed[-1].author_id)
        names = await self._names(story.id)
        shown = [await self._view(turn, names) for turn in removed]
        notices = ()
        if len(removed) > 1:
            notices = (f"Removed the pending turn with its {len(removed)} alternatives.",)
        return UndoResult(story=await self._info(story), removed=tuple(shown), notices=notices)

    @user_errors
    async def pause(
        self, channel_id: int, user_id: int, *, is_moderator: bool = False
    ) -> StatusResult:
        """Stop taking turns; the round-robin clock stops too."""
        story = await self._story_here(channel_id)
        require_owner(story, user_id, is_moderator, "pause the story")
        require_active(story)
        paused = await self.storage.stories.set_status(story.id, "paused")
        paused = await self.storage.stories.set_turn(story.id, story.current_seat, None)
        return StatusResult(story=await self._info(paused), previous="active")

    @user_errors
    async def resume(
        self, channel_id: int, user_id: int, *, is_moderator: bool = False
    ) -> StatusResult:
        """Take turns again; the writer holding the turn gets a full turn time."""
        story = await self._story_here(channel_id)
        require_owner(story, user_id, is_moderator, "resume the story")
        if story.status != "paused":
            raise InvalidInput("The story is not paused.")
        resumed = await self.storage.stories.set_status(story.id, "active")
        writer = current_writer(resumed, await self._participants(story.id))
        if writer is not None:
            resumed = await self.storage.stories.set_turn(
                story.id, writer.seat, deadline(resumed, self.clock(), writer.seat)
            )
        return StatusResult(story=await self._info(resumed), previous="paused")

    @user_errors
    async def end(
        self, channel_id: int, user_id: int, *, is_moderator: bool = False
    ) -> StatusResult:
        """End the story; a pending model turn is kept as shown, like any other move on."""
        story = await self._story_here(channel_id)
        require_owner(story, user_id, is_moderator, "end the story")
        async with self.locks.hold(story.id):
            await self._keep_pending(story.id, user_id)
            ended = await self.storage.stories.set_status(story.id, "ended")
        return StatusResult(
            story=await self._info(ended),
            previous=story.status,
            notices=(
                f"Read it with /story show story:{story.id}, or /story export story:{story.id}.",
            ),
        )

    @user_errors
    async def settings(
        self, channel_id: int, user_id: int, *, is_moderator: bool = False, **changes: Any
    ) -> SettingsResult:
        """Show the story's settings, or change some: title, mood, mode, turn_timeout_s (None
        turns the clock off), timeout_action, reroll_policy, style_matching, model_seat (the
        model takes turns of its own in round-robin) and model_voice (what it writes then)."""
        story = await self._story_here(channel_id)
        if not changes:
            return SettingsResult(story=await self._info(story))
        unknown = sorted(set(changes) - set(SETTINGS))
        if unknown:
            raise InvalidInput(
                f"Unknown story setting {', '.join(unknown)}; use {', '.join(SETTINGS)}."
            )
        if user_id != story.owner_id and not is_moderator:
            raise PermissionDenied("Only the story's owner or a moderator can change its settings.")
        checked = check_settings(**changes)
        if "title" in checked:
            rules = await self.guard.rules(story.guild_id)
            self.guard.require_no_link(checked["title"], rules, "The title")
            checked["title"] = self.guard.require(checked["title"], rules, "The title").text
        seated = checked.pop("model_seat", None)
        if seated and checked.get("mode", story.mode) != "round_robin":
            raise InvalidInput(
                "The model takes a seat only in a round-robin story; set mode:round_robin too."
            )
        updated = story
        if checked:
            updated = await self.storage.stories.update_settings(
                story, replace(story.settings, **checked)
            )
        if seated is not None:
            updated = await self._seat_model(updated, seated)
            checked["model_seat"] = seated
        if {"mode", "turn_timeout_s"} & set(checked) and updated.status == "active":
            writer = current_writer(updated, await self._participants(story.id))
            seat = writer.seat if writer else updated.current_seat
            updated = await self.storage.stories.set_turn(
                story.id, seat, deadline(updated, self.clock(), seat)
            )
        return SettingsResult(story=await self._info(updated), changed=checked)

    async def _seat_model(self, story: Story, seated: bool) -> Story:
        """Give the model its seat (at the end of the order) or take it away; taken away while
        it holds the turn, the turn passes to the next member. Held like a turn, so the model
        is never writing in a seat that is going away."""
        async with self.locks.hold(story.id):
            participants = await self._participants(story.id)
            holder = current_writer(story, participants)
            updated = await self.storage.stories.set_model_seat(story.id, seated)
            if not seated and is_model(holder) and updated.status == "active":
                assert holder is not None
                updated = await self._advance(updated, participants, holder.seat)
        return updated
