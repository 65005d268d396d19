"""Engine results as lines of terminal text: wrapped to the terminal, with bylines, whose
turn it is, and the position of an alternative among its siblings ("2/3")."""

from __future__ import annotations

import textwrap
import time
from collections.abc import Callable
from functools import singledispatchmethod

from bot.story.export import label
from bot.story.links import link_notes
from bot.story.notes import turn_notes
from bot.story.reactions import reaction_note
from bot.story.results import (
    CardFile,
    CastResult,
    CharacterDeleted,
    CharacterList,
    CharacterResult,
    CharacterView,
    DeadlineEvent,
    ExportResult,
    ForgetResult,
    GenerationResult,
    GuildModeration,
    KeepResult,
    MembershipResult,
    ModEventView,
    ModQueue,
    Recap,
    ReportResult,
    RerollResult,
    SettingsResult,
    SkipResult,
    StartResult,
    StatusResult,
    StoryInfo,
    StoryList,
    StoryOverview,
    StoryPage,
    StyleView,
    SwipeResult,
    TurnView,
    UndoResult,
    WriteResult,
)

INDENT = "    "
PENDING_HINT = "keep it: /story keep · another: /story reroll · browse: /story swipe prev|next"


def duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"


class Renderer:
    def __init__(self, width: int, clock: Callable[[], float] = time.time) -> None:
        self.width = max(40, width)
        self.clock = clock

    def wrap(self, text: str, indent: str = INDENT, hanging: str | None = None) -> list[str]:
        """Each line of `text` wrapped to the width; `hanging` indents continuation lines."""
        lines: list[str] = []
        for paragraph in text.splitlines() or [""]:
            if not paragraph.strip():
                lines.append("")
                continue
            lines += textwrap.wrap(
                paragraph,
                self.width,
                initial_indent=indent,
                subsequent_indent=indent if hanging is None else hanging,
                break_on_hyphens=False,
            )
        return lines

    def turn(self, view: TurnView, *, hint: bool = True) -> list[str]:
        head = f"  #{view.id} · {view.byline}"
        if view.pending and view.alt_count > 1:
            head += f" · alternative {view.alt_index}/{view.alt_count}"
        if view.fallback:
            head += " · safe fallback line"
        lines = [head, *self.wrap(view.text)]
        if view.pending and hint:
            lines.append(f"{INDENT}({PENDING_HINT})")
        return lines

    def whose_turn(self, story: StoryInfo) -> list[str]:
        if story.status != "active":
            return [f"The story is {story.status}."]
        if story.mode != "round_robin":
            return []
        if story.current_writer is None:
            return ["Nobody holds the turn; /story join to take it."]
        line = f"It's {story.current_writer.name}'s turn"
        if story.turn_deadline is not None:
            left = story.turn_deadline - self.clock()
            clock_time = time.strftime("%H:%M:%S", time.localtime(story.turn_deadline))
            line += f" (until {clock_time}, {duration(left)} left)"
        return [line + "."]

    def story_header(self, story: StoryInfo, verb: str = "Story") -> list[str]:
        facts = [label(story.genre)]
        if story.mood:
            facts.append(story.mood)
        facts.append("round-robin" if story.mode == "round_robin" else "free for all")
        lines = [
            f'{verb} #{story.id} "{story.title}" ({", ".join(facts)}), owned by {story.owner_name}.'
        ]
        if story.premise:
            lines += self.wrap(f"Premise: {story.premise}", "  ")
        members = ", ".join(
            p.name + (f" (as {p.character_name})" if p.character_name else "")
            for p in story.participants
        )
        lines.append(f"  Writers: {members or 'nobody yet'}.")
        return lines

    def settings(self, story: StoryInfo) -> list[str]:
        timeout = f"{story.turn_timeout_s} s" if story.turn_timeout_s else "off"
        return [
            f"  title: {story.title}",
            f"  mood: {story.mood or 'none'}",
            f"  mode: {story.mode}",
            f"  timeout: {timeout} (on timeout: {story.timeout_action})",
            f"  reroll: {story.reroll_policy}",
            f"  style matching: {'on' if story.style_matching else 'off'}",
            f"  model seat: {'on' if story.model_seat else 'off'} (voice: {story.model_voice})",
        ]

    @singledispatchmethod
    def render(self, result: object) -> list[str]:
        return [str(result)]

    @render.register
    def _(self, result: StartResult) -> list[str]:
        lines = self.story_header(result.story, "Started story")
        if result.opening is not None:
            lines += ["The model wrote an opening:", *self.turn(result.opening)]
        lines += result.notices
        return lines + self.whose_turn(result.story)

    @render.register
    def _(self, result: MembershipResult) -> list[str]:
        if result.joined:
            line = (
                f"{result.user_name} joined"
                if result.changed
                else f"{result.user_name} is already in"
            )
        else:
            line = f"{result.user_name} left"
        lines = [f'{line} "{result.story.title}".']
        if result.passed_turn:
            lines.append("Their turn passes on.")
        return lines + self.whose_turn(result.story)

    @render.register(WriteResult)
    @render.register(GenerationResult)
    def _(self, result: WriteResult | GenerationResult) -> list[str]:
        lines = []
        if result.auto_kept is not None:
            lines.append(
                f"  (kept #{result.auto_kept.id}, the alternative shown, as the story moved on)"
            )
        lines += self.turn(result.turn)
        lines += result.notices
        return lines + self.whose_turn(result.story)

    @render.register
    def _(self, result: RerollResult) -> list[str]:
        lines = []
        if result.votes is not None:
            verb = "Reroll vote passed" if result.rerolled else "Reroll vote counted"
            lines.append(f"{verb}: {result.votes} ({', '.join(result.votes.voters)}).")
        if result.rerolled or result.votes is None:
            lines += self.turn(result.turn)
        return lines + list(result.notices)

    @render.register
    def _(self, result: SwipeResult) -> list[str]:
        return [*self.turn(result.turn), *result.notices]

    @render.register
    def _(self, result: KeepResult) -> list[str]:
        dropped = ""
        if result.discarded:
            plural = "s" if result.discarded > 1 else ""
            dropped = f"; {result.discarded} other alternative{plural} discarded"
        return [f"Kept #{result.turn.id} ({result.turn.byline}){dropped}."]

    @render.register
    def _(self, result: UndoResult) -> list[str]:
        lines = [f"Removed #{view.id} ({view.byline})." for view in result.removed[-1:]]
        return lines + list(result.notices) + self.whose_turn(result.story)

    @render.register
    def _(self, result: StatusResult) -> list[str]:
        verbs = {"active": "resumed", "paused": "paused", "ended": "ended"}
        lines = [f'"{result.story.title}" is {verbs[result.story.status]}.', *result.notices]
        if result.story.status == "active":
            lines += self.whose_turn(result.story)
        return lines

    @render.register
    def _(self, result: SkipResult) -> list[str]:
        name = result.skipped.name if result.skipped else "The writer"
        return [f"Skipped {name}'s turn.", *self.whose_turn(result.story)]

    @render.register
    def _(self, result: StoryOverview) -> list[str]:
        lines = self.story_header(result.story)
        lines.append(f"  Turns kept so far: {result.turns}.")
        if result.pending is not None:
            lines += ["Waiting for Keep:", *self.turn(result.pending)]
        return lines + self.whose_turn(result.story)

    @render.register
    def _(self, result: StoryList) -> list[str]:
        if not result.stories:
            return ['No stories yet. Start one with /story start title:"..." genre:...']
        return [
            f"  #{s.id} {s.title} — {label(s.genre)}, {s.status}, owned by {s.owner_name}"
            for s in result.stories
        ]

    @render.register
    def _(self, result: StoryPage) -> list[str]:
        lines = [
            f'"{result.story.title}", page {result.page} of {result.pages} ({result.total} turns)'
        ]
        lines += [f"  {note}" for note in link_notes(result.links)]
        for view in result.turns:
            lines += self.turn(view, hint=False)
            lines += [f"{INDENT}{note}" for note in turn_notes(view)]
            if (note := reaction_note(result, view.id)) is not None:
                lines.append(f"{INDENT}{note}")
        if result.pending is not None:
            lines += ["Waiting for Keep (kept automatically when the story moves on):"]
            lines += self.turn(result.pending)
        if not result.turns and result.pending is None:
            lines.append("  No turns yet: write one, or ask /story continue.")
        return lines + self.whose_turn(result.story)

    @render.register
    def _(self, result: Recap) -> list[str]:
        lines = [f'Recap of "{result.story.title}" ({result.total_turns} turns kept):']
        for line in result.lines:
            mark = " (not kept yet)" if line.pending and "not kept" not in line.byline else ""
            lines += self.wrap(f"- {line.sentence} — {line.byline}{mark}", "  ", INDENT)
        if not result.lines:
            lines.append("  Nothing has happened yet.")
        return lines

    @render.register
    def _(self, result: ExportResult) -> list[str]:
        return result.markdown.rstrip("\n").splitlines()

    @render.register
    def _(self, result: SettingsResult) -> list[str]:
        head = "Changed: " + ", ".join(sorted(result.changed)) if result.changed else "Settings:"
        return [head, *self.settings(result.story)]

    @render.register
    def _(self, result: DeadlineEvent) -> list[str]:
        mark = "[model]" if result.action == "model_wrote" else "[timer]"
        lines = [f"{mark} {result.message}"]
        if result.turn is not None:
            lines += self.turn(result.turn, hint=False)
        return lines

    @render.register
    def _(self, result: CharacterResult) -> list[str]:
        return [*self.character(result.character), *result.notices]

    def character(self, view: CharacterView) -> list[str]:
        lines = [
            f"  {view.name} (character #{view.id}{', imported card' if view.imported else ''})"
        ]
        for name, value in (
            ("description", view.description),
            ("personality", view.personality),
            ("speech", view.speech_style),
            ("backstory", view.backstory),
            ("first message", view.first_message),
            ("tags", ", ".join(view.tags)),
        ):
            if value:
                lines += self.wrap(f"{name}: {value}")
        return lines

    @render.register
    def _(self, result: CharacterDeleted) -> list[str]:
        return [f"Deleted the character {result.name}."]

    @render.register
    def _(self, result: CharacterList) -> list[str]:
        if not result.characters:
            return ['No characters yet. Create one with /character create name:"..."']
        return [
            f"  {c.name}" + (f" — {c.description[:60]}" if c.description else "")
            for c in result.characters
        ]

    @render.register
    def _(self, result: CastResult) -> list[str]:
        if not result.added:
            return [f"{result.character.name} left the story."]
        lines = [f"{result.character.name} joins the story."]
        if result.plays_as:
            lines.append(f"You play {result.character.name} in this story.")
        return lines

    @render.register
    def _(self, result: CardFile) -> list[str]:
        return result.data.decode("utf-8").rstrip("\n").splitlines()

    @render.register
    def _(self, result: ReportResult) -> list[str]:
        if result.event is None:
            return [f"You already reported #{result.turn_id}."]
        return [f"Reported #{result.turn_id} to the moderators (event {result.event.id})."]

    @render.register
    def _(self, result: ModQueue) -> list[str]:
        if not result.events:
            return ["The moderation queue is empty."]
        lines = []
        for event in result.events:
            lines += self.event(event)
        return lines

    @render.register
    def _(self, result: ModEventView) -> list[str]:
        return [f"Event {result.id} is {result.status} ({result.resolution})."]

    def event(self, event: ModEventView) -> list[str]:
        where = f" on turn #{event.turn_id}" if event.turn_id else ""
        lines = [f"  event {event.id}: {event.kind} ({event.source}){where}"]
        if event.reasons:
            lines += self.wrap("why: " + "; ".join(event.reasons))
        if event.excerpt:
            lines += self.wrap(f"text: {event.excerpt}")
        return lines

    @render.register
    def _(self, result: GuildModeration) -> list[str]:
        def terms(lists: dict[str, list[str]]) -> str:
            shown = [
                ", ".join(words) if key == "*" else f"{key}: {', '.join(words)}"
                for key, words in lists.items()
            ]
            return "; ".join(shown) or "none"

        return [
            f"  level: {result.level}{'' if result.saved else ' (default)'}",
            f"  blocked words: {terms(result.blocked_terms)}",
            f"  exempt words: {terms(result.exempt_terms)}",
        ]

    @render.register
    def _(self, result: StyleView) -> list[str]:
        stats = result.stats
        if not stats and not result.preferences:
            return ["No style profile yet: it grows as you write turns."]
        lines = []
        if stats:
            lines.append(
                f"  {stats.get('turns', 0)} turns, {stats.get('words', 0)} words, "
                f"{stats.get('words_per_sentence', 0)} words per sentence, "
                f"{stats.get('dialogue_turns', 0)} with dialogue"
            )
            genres = stats.get("genres", {})
            if genres:
                lines.append(
                    "  genres: " + ", ".join(f"{label(g)} ({n})" for g, n in genres.items())
                )
        lines.append(f"  style vector: {'yes' if result.has_vector else 'not yet'}")
        prefs = ", ".join(f"{k}={v}" for k, v in result.preferences.items()) or "none"
        lines.append(f"  preferences: {prefs}")
        return lines

    @render.register
    def _(self, result: ForgetResult) -> list[str]:
        deleted = ", ".join(f"{n} {table.replace('_', ' ')}" for table, n in result.deleted.items())
        return [f"Forgot your style: deleted {deleted}."]
