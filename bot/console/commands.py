"""The terminal's commands, named and shaped like the Discord slash commands they mirror.

Each command reads its words and `key:value` options, calls one engine operation as the local
user (a moderator of the terminal's guild) and returns the result for the renderer.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO, TypedDict, cast

from bot.console.live import LiveLine
from bot.console.parse import Command
from bot.errors import InvalidInput
from bot.render_privacy import DELETE_WARNING, delete_text, export_text, style_choice_text
from bot.story import StoryEngine
from bot.story.books import FORMATS
from bot.story.lore_results import LoreScope, LoreView
from bot.story.results import TurnView
from storage.models import (
    ANY_CATEGORY,
    TERMINAL_GUILD_ID,
    RerollPolicy,
    StoryMode,
    StorySettings,
    TimeoutAction,
)

TERMINAL_CHANNEL_ID = 1
"""The one channel of the terminal guild."""


def user_id_for(name: str) -> int:
    """A stable id for a local name (the same name is the same writer in every session)."""
    digest = hashlib.sha256(" ".join(name.casefold().split()).encode("utf-8")).digest()
    return int.from_bytes(digest[:7], "big") + 1


@dataclass
class Session:
    """Who is at the keyboard, and where; `out` is where model turns are typed out while
    they are written (the console sets it to its own output)."""

    engine: StoryEngine
    user_name: str
    guild_id: int = TERMINAL_GUILD_ID
    channel_id: int = TERMINAL_CHANNEL_ID
    out: TextIO | None = None

    @property
    def user_id(self) -> int:
        return user_id_for(self.user_name)


Handler = Callable[[Session, Command], Awaitable[Any]]


@dataclass(frozen=True)
class Spec:
    path: tuple[str, ...]
    usage: str
    summary: str
    handler: Handler
    options: frozenset[str] = frozenset()
    text_key: str | None = None
    """The option that may carry the free-text argument; without it the whole rest of the
    line is the argument, and words with colons in it are not options."""


COMMANDS: dict[tuple[str, ...], Spec] = {}


def command(
    path: str, usage: str, summary: str, options: str = "", text_key: str | None = None
) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        key = tuple(path.split())
        COMMANDS[key] = Spec(key, usage, summary, handler, frozenset(options.split()), text_key)
        return handler

    return register


# --- option values ------------------------------------------------------------------------

_DURATION = re.compile(r"^\s*(\d+)\s*([smh]?)\s*$")
_YES = {"yes", "y", "true", "on", "1"}
_NO = {"no", "n", "false", "off", "0"}


def flag(value: str | None, name: str, default: bool = False) -> bool:
    if value is None:
        return default
    if value.casefold() in _YES:
        return True
    if value.casefold() in _NO:
        return False
    raise InvalidInput(f"{name} takes yes or no, not {value!r}.")


def seconds(value: str, name: str = "timeout") -> int | None:
    """`300`, `300s`, `5m`, `1h`; `off` (or `none`, `0`) for no limit."""
    if value.casefold() in ("off", "none", "0"):
        return None
    match = _DURATION.match(value)
    if match is None:
        raise InvalidInput(f"{name} takes seconds (300), minutes (5m) or hours (1h), or off.")
    return int(match[1]) * {"": 1, "s": 1, "m": 60, "h": 3600}[match[2]]


def number(value: str, what: str) -> int:
    digits = value.lstrip("#")
    if not digits.isdigit():
        raise InvalidInput(f"{what} must be a number, not {value!r}.")
    return int(digits)


def terms(value: str | None) -> list[str]:
    return [term.strip() for term in (value or "").split(",") if term.strip()]


def read_file(name: str) -> bytes:
    path = Path(name).expanduser()
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"Cannot read {path}: {exc.strerror or exc}.") from exc


def write_file(name: str, data: bytes) -> Path:
    path = Path(name).expanduser()
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise InvalidInput(f"Cannot write {path}: {exc.strerror or exc}.") from exc
    return path


def name_argument(cmd: Command, what: str, key: str = "name") -> str:
    name = cmd.options.get(key) or " ".join(cmd.words)
    if not name.strip():
        raise InvalidInput(f"Say which {what}.")
    return name


async def pending_turn(session: Session, words: tuple[str, ...]) -> int:
    """The turn a keep/reroll/swipe is about: `#id` if given, else the one waiting here."""
    ids = [word for word in words if word.lstrip("#").isdigit()]
    if ids:
        return number(ids[0], "The turn id")
    waiting: TurnView | None = await session.engine.pending(session.channel_id)
    if waiting is None:
        raise InvalidInput("Nothing is waiting for Keep here; ask for one with /story continue.")
    return waiting.id


# --- /story -------------------------------------------------------------------------------


@command(
    "story start",
    'start title:"..." genre:G [mood:M] [premise:"..."] [mode:free|round_robin] [timeout:5m] '
    "[on_timeout:skip|ai] [opening:yes] [reroll:owner|vote] [style:on]",
    "start a story in this channel",
    "title genre mood premise mode timeout on_timeout opening reroll style",
)
async def story_start(session: Session, cmd: Command) -> Any:
    opts = cmd.options
    title = opts.get("title") or " ".join(cmd.words)
    if not title.strip():
        raise InvalidInput('Give the story a title: /story start title:"The Lantern" genre:mystery')
    if "genre" not in opts:
        raise InvalidInput("Pick a genre with genre:..., e.g. genre:fantasy_adventure.")
    mood = opts.get("mood")
    timeout = seconds(opts["timeout"]) if "timeout" in opts else None
    opening = flag(opts.get("opening"), "opening")
    settings = StorySettings(
        title=title,
        genre=opts["genre"],
        premise=opts.get("premise", ""),
        mood=None if mood in (None, "", "none") else mood,
        # The player's text: engine.start checks it (check_settings) and names a value that is
        # none of the choices.
        mode=cast(StoryMode, opts.get("mode", "free").replace("-", "_")),
        turn_timeout_s=timeout,
        timeout_action=cast(TimeoutAction, opts.get("on_timeout", "skip")),
        reroll_policy=cast(RerollPolicy, opts.get("reroll", "owner")),
        style_matching=flag(opts.get("style"), "style"),
    )
    return await session.engine.start(
        session.guild_id,
        session.channel_id,
        session.user_id,
        session.user_name,
        settings,
        ai_opening=opening,
    )


@command(
    "story write",
    "write <text> (or just type the text)",
    "add your turn",
    "text character",
    text_key="text",
)
async def story_write(session: Session, cmd: Command) -> Any:
    text, character = cmd.rest, None
    if "text" in cmd.options:
        text, character = cmd.options["text"], cmd.options.get("character")
    return await session.engine.write(
        session.channel_id, session.user_id, session.user_name, text, character
    )


async def _ai(
    session: Session, kind: str, character: str | None = None, theme: str | None = None
) -> Any:
    """A model turn; a generator that streams types it out on a "writing…" line first, which
    is closed before the turn (or the failure) is printed."""
    line = None if session.out is None else LiveLine(session.out)
    try:
        return await session.engine.ai_turn(
            session.channel_id,
            session.user_id,
            kind,
            character,
            theme,
            user_name=session.user_name,
            live=None if line is None else line.turn(),
        )
    finally:
        if line is not None:
            line.end()


@command("story continue", "continue", "the model writes the next turn")
async def story_continue(session: Session, cmd: Command) -> Any:
    return await _ai(session, "continue")


@command("story twist", "twist", "the model writes a plot twist")
async def story_twist(session: Session, cmd: Command) -> Any:
    return await _ai(session, "twist")


@command("story say", "say <character>", "the model writes a line for a character", "character")
async def story_say(session: Session, cmd: Command) -> Any:
    return await _ai(session, "dialogue", name_argument(cmd, "character speaks", "character"))


@command("story poem", "poem [theme]", "the model writes a short poem", "theme", text_key="theme")
async def story_poem(session: Session, cmd: Command) -> Any:
    theme = cmd.options.get("theme", cmd.rest)
    return await _ai(session, "poem", theme=theme or None)


@command("story reroll", "reroll [#turn]", "another alternative for the turn waiting for Keep")
async def story_reroll(session: Session, cmd: Command) -> Any:
    turn_id = await pending_turn(session, cmd.words)
    return await session.engine.reroll(
        turn_id, session.user_id, user_name=session.user_name, is_moderator=True
    )


@command("story keep", "keep [#turn]", "keep the alternative shown")
async def story_keep(session: Session, cmd: Command) -> Any:
    turn_id = await pending_turn(session, cmd.words)
    return await session.engine.keep(turn_id, session.user_id, is_moderator=True)


@command("story swipe", "swipe next|prev", "show another alternative")
async def story_swipe(session: Session, cmd: Command) -> Any:
    direction = next((w.casefold() for w in cmd.words if not w.lstrip("#").isdigit()), "next")
    if direction not in ("next", "prev", "previous"):
        raise InvalidInput("Swipe next or prev.")
    turn_id = await pending_turn(session, cmd.words)
    step = 1 if direction == "next" else -1
    return await session.engine.swipe(turn_id, session.user_id, step, is_moderator=True)


@command("story undo", "undo", "remove the last turn")
async def story_undo(session: Session, cmd: Command) -> Any:
    return await session.engine.undo(session.channel_id, session.user_id, is_moderator=True)


@command(
    "story edit",
    "edit <#turn> <new text>",
    "change the text of a kept turn",
    "text",
    text_key="text",
)
async def story_edit(session: Session, cmd: Command) -> Any:
    if not cmd.words or not cmd.words[0].lstrip("#").isdigit():
        raise InvalidInput("Say which turn and its new text: /story edit 12 The door hums.")
    turn_id = number(cmd.words[0], "The turn id")
    text = cmd.options.get("text") or "".join(cmd.rest.strip().split(maxsplit=1)[1:])
    result = await session.engine.edit_turn(
        turn_id, session.user_id, text, user_name=session.user_name, is_moderator=True
    )
    lines = [f"Turn #{result.turn.id} now reads:", result.turn.text, *result.notices]
    return "\n".join(lines)


@command(
    "story fork", "fork [at:#turn] [story:ID]", "branch the story; you move to the fork", "at story"
)
async def story_fork(session: Session, cmd: Command) -> Any:
    """The terminal has one channel, so a fork gets a place of its own there (as a thread
    would be on Discord) and the session moves to it; /story switch goes back."""
    at = cmd.options.get("at")
    plan = await session.engine.plan_fork(
        guild_id=session.guild_id,
        at_turn=None if at is None else number(at, "The turn id"),
        **_which(session, cmd),
    )
    places = await session.engine.storage.stories.list_for_channel(TERMINAL_CHANNEL_ID)
    place = max([s.place_id for s in places if s.thread_id is not None] + [TERMINAL_CHANNEL_ID]) + 1
    result = await session.engine.fork(
        plan, session.user_id, session.user_name, channel_id=TERMINAL_CHANNEL_ID, thread_id=place
    )
    session.channel_id = result.story.place_id
    return (
        f'Forked "{plan.title}" at turn #{plan.at_turn} into story #{result.story.id} '
        f"({result.turns} turns); you are in the fork now. "
        f"/story switch {plan.story_id} goes back."
    )


@command(
    "story switch", "switch <story id>", "play the story with that id (a fork or its original)"
)
async def story_switch(session: Session, cmd: Command) -> Any:
    if not cmd.words:
        raise InvalidInput("Say which story: /story switch 2.")
    story = await session.engine.storage.stories.get(number(cmd.words[0], "The story id"))
    if story is None or story.guild_id != session.guild_id:
        raise InvalidInput(f"There is no story with id {cmd.words[0]} here.")
    session.channel_id = story.place_id
    return f'Now at story #{story.id} "{story.title}" ({story.status}).'


@command("story recap", "recap [turns] [story:ID]", "the last turns in a sentence each", "story")
async def story_recap(session: Session, cmd: Command) -> Any:
    count = number(cmd.words[0], "The number of turns") if cmd.words else None
    return await session.engine.recap(
        turns=count, guild_id=session.guild_id, **_which(session, cmd)
    )


@command("story show", "show [page] [story:ID]", "read the story, a page at a time", "story")
async def story_show(session: Session, cmd: Command) -> Any:
    page = number(cmd.words[0], "The page") if cmd.words else None
    return await session.engine.show(page=page, guild_id=session.guild_id, **_which(session, cmd))


@command(
    "story export",
    "export [markdown|html|epub] [file] [story:ID]",
    "the story as Markdown (shown, or saved), an HTML page or an EPUB book (saved)",
    "story",
)
async def story_export(session: Session, cmd: Command) -> Any:
    words = list(cmd.words)
    format = words.pop(0).casefold() if words and words[0].casefold() in FORMATS else "markdown"
    result = await session.engine.export(
        guild_id=session.guild_id, format=format, **_which(session, cmd)
    )
    if not words and format == "markdown":
        return result
    target = words[0] if words else result.filename
    path = await asyncio.to_thread(write_file, target, result.data)
    return f'Exported "{result.story.title}" to {path}.'


class _Which(TypedDict, total=False):
    """Which story a command means: one named by id, else the one in the session's channel."""

    story_id: int
    channel_id: int


def _which(session: Session, cmd: Command) -> _Which:
    if "story" in cmd.options:
        return {"story_id": number(cmd.options["story"], "The story id")}
    return {"channel_id": session.channel_id}


@command("story status", "status", "the story here at a glance")
async def story_status(session: Session, cmd: Command) -> Any:
    return await session.engine.status(session.channel_id)


@command("story list", "list", "every story, with its status")
async def story_list(session: Session, cmd: Command) -> Any:
    return await session.engine.list_stories(session.guild_id)


@command("story join", "join", "take a seat in the story")
async def story_join(session: Session, cmd: Command) -> Any:
    return await session.engine.join(session.channel_id, session.user_id, session.user_name)


@command("story leave", "leave", "leave the story")
async def story_leave(session: Session, cmd: Command) -> Any:
    return await session.engine.leave(session.channel_id, session.user_id)


@command("story skip", "skip", "round-robin: pass the turn on")
async def story_skip(session: Session, cmd: Command) -> Any:
    return await session.engine.skip(session.channel_id, session.user_id, is_moderator=True)


@command("story pause", "pause", "stop taking turns for now")
async def story_pause(session: Session, cmd: Command) -> Any:
    return await session.engine.pause(session.channel_id, session.user_id, is_moderator=True)


@command("story resume", "resume", "take turns again")
async def story_resume(session: Session, cmd: Command) -> Any:
    return await session.engine.resume(session.channel_id, session.user_id, is_moderator=True)


@command("story end", "end", "end the story")
async def story_end(session: Session, cmd: Command) -> Any:
    return await session.engine.end(session.channel_id, session.user_id, is_moderator=True)


@command(
    "story settings",
    "settings [title:..] [mood:..|none] [mode:..] [timeout:5m|off] [on_timeout:skip|ai] "
    "[reroll:owner|vote] [style:on|off] [model_seat:on|off] "
    "[voice:narration|characters|mixed]",
    "see or change the story's settings",
    "title mood mode timeout on_timeout reroll style model_seat voice",
)
async def story_settings(session: Session, cmd: Command) -> Any:
    opts = cmd.options
    changes: dict[str, Any] = {}
    if "title" in opts:
        changes["title"] = opts["title"]
    if "mood" in opts:
        changes["mood"] = None if opts["mood"] in ("", "none") else opts["mood"]
    if "mode" in opts:
        changes["mode"] = opts["mode"].replace("-", "_")
    if "timeout" in opts:
        changes["turn_timeout_s"] = seconds(opts["timeout"])
    if "on_timeout" in opts:
        changes["timeout_action"] = opts["on_timeout"]
    if "reroll" in opts:
        changes["reroll_policy"] = opts["reroll"]
    if "style" in opts:
        changes["style_matching"] = flag(opts["style"], "style")
    if "model_seat" in opts:
        changes["model_seat"] = flag(opts["model_seat"], "model_seat")
    if "voice" in opts:
        changes["model_voice"] = opts["voice"]
    return await session.engine.settings(
        session.channel_id, session.user_id, is_moderator=True, **changes
    )


@command("story cast", "cast <character>", "bring a character into the story", "character")
async def story_cast(session: Session, cmd: Command) -> Any:
    name = name_argument(cmd, "character", "character")
    return await session.engine.cast(session.channel_id, session.user_id, name)


@command("story uncast", "uncast <character>", "take a character out of the story", "character")
async def story_uncast(session: Session, cmd: Command) -> Any:
    name = name_argument(cmd, "character", "character")
    return await session.engine.uncast(session.channel_id, session.user_id, name, is_moderator=True)


@command("story report", "report <#turn> [reason:..]", "flag a turn for the moderators", "reason")
async def story_report(session: Session, cmd: Command) -> Any:
    if not cmd.words:
        raise InvalidInput("Say which turn to report, e.g. /story report #12.")
    turn_id = number(cmd.words[0], "The turn id")
    reason = cmd.options.get("reason") or " ".join(cmd.words[1:]) or None
    return await session.engine.report_turn(
        turn_id, session.user_id, reason, guild_id=session.guild_id
    )


# --- /character ---------------------------------------------------------------------------

SHEET_OPTIONS = {
    "description": "description",
    "personality": "personality",
    "speech": "speech_style",
    "backstory": "backstory",
    "first": "first_message",
}


@command(
    "character create",
    'create name:"..." [description:..] [personality:..] [speech:..] [backstory:..] '
    "[first:..] [tags:a,b]",
    "create a character sheet",
    "name tags " + " ".join(SHEET_OPTIONS),
)
async def character_create(session: Session, cmd: Command) -> Any:
    fields = {field: cmd.options[key] for key, field in SHEET_OPTIONS.items() if key in cmd.options}
    return await session.engine.character_create(
        session.guild_id,
        session.user_id,
        name_argument(cmd, "name the character has"),
        tags=terms(cmd.options.get("tags")),
        **fields,
    )


@command(
    "character edit",
    "edit <name> [rename:..] [description:..] [personality:..] [speech:..] [backstory:..] "
    "[first:..] [tags:a,b]",
    "change a character sheet",
    "name rename tags " + " ".join(SHEET_OPTIONS),
)
async def character_edit(session: Session, cmd: Command) -> Any:
    changes: dict[str, Any] = {
        field: cmd.options[key] for key, field in SHEET_OPTIONS.items() if key in cmd.options
    }
    if "rename" in cmd.options:
        changes["name"] = cmd.options["rename"]
    if "tags" in cmd.options:
        changes["tags"] = terms(cmd.options["tags"])
    return await session.engine.character_edit(
        session.guild_id,
        session.user_id,
        name_argument(cmd, "character"),
        is_moderator=True,
        **changes,
    )


@command("character show", "show <name>", "read a character sheet", "name")
async def character_show(session: Session, cmd: Command) -> Any:
    name = name_argument(cmd, "character")
    return await session.engine.character_show(session.guild_id, name, session.user_id)


@command("character list", "list [mine]", "the characters here")
async def character_list(session: Session, cmd: Command) -> Any:
    mine = [w.casefold() for w in cmd.words] == ["mine"]
    owner = session.user_id if mine else None
    return await session.engine.character_list(session.guild_id, owner)


@command("character delete", "delete <name>", "delete a character", "name")
async def character_delete(session: Session, cmd: Command) -> Any:
    name = name_argument(cmd, "character")
    return await session.engine.character_delete(
        session.guild_id, session.user_id, name, is_moderator=True
    )


@command("character import", "import <file.json|file.png>", "import a Character Card (V1/V2)")
async def character_import(session: Session, cmd: Command) -> Any:
    if not cmd.words:
        raise InvalidInput("Say which card file to import.")
    data = await asyncio.to_thread(read_file, " ".join(cmd.words))
    return await session.engine.character_import(session.guild_id, session.user_id, data)


@command(
    "character export",
    "export <name> [file.json|file.png]",
    "save a character as a Character Card V2",
    "name file",
)
async def character_export(session: Session, cmd: Command) -> Any:
    words = list(cmd.words)
    target = cmd.options.get("file")
    if target is None and len(words) > 1 and words[-1].casefold().endswith((".json", ".png")):
        target = words.pop()
    name = cmd.options.get("name") or " ".join(words)
    if not name.strip():
        raise InvalidInput("Say which character to export.")
    file_format = "png" if target and target.casefold().endswith(".png") else "json"
    card = await session.engine.character_export(
        session.guild_id, session.user_id, name, file_format
    )
    if target is None:
        return card
    path = await asyncio.to_thread(write_file, target, card.data)
    return f"Saved {card.character.name} as a Character Card V2 to {path}."


# --- /lore, /story memory -------------------------------------------------------------------


def _lore_scope(cmd: Command) -> LoreScope:
    scope = cmd.options.get("scope", "story")
    if scope not in ("story", "server"):
        raise InvalidInput("scope is story or server.")
    return "server" if scope == "server" else "story"


def _lore_lines(entry: LoreView) -> str:
    when = "always" if entry.constant else f"keys: {', '.join(entry.keys) or 'none'}"
    status = f" [{entry.status}]" if entry.status else ""
    return f"{entry.name} ({entry.scope}, priority {entry.priority}; {when}){status}: {entry.text}"


@command("story memory", "memory [text]", "show the story's memory, or set it (clear: -)")
async def story_memory(session: Session, cmd: Command) -> Any:
    text = " ".join(cmd.words).strip()
    if not text:
        shown = await session.engine.memory_show(session.channel_id)
        return f"Memory: {shown.text or '(empty)'}"
    result = await session.engine.memory_set(
        session.channel_id, session.user_id, "" if text == "-" else text, is_moderator=True
    )
    return "\n".join([f"Memory: {result.text or '(empty)'}", *result.notices])


@command(
    "lore add",
    "add name:<name> keys:<a, b> [always:yes] [priority:N] [scope:story|server] <text>",
    "add a lore entry",
    "name keys always priority scope text",
    "text",
)
async def lore_add(session: Session, cmd: Command) -> Any:
    result = await session.engine.lore_add(
        session.guild_id,
        session.channel_id,
        session.user_id,
        cmd.options.get("name", ""),
        cmd.options.get("keys", ""),
        cmd.options.get("text") or " ".join(cmd.words),
        constant=flag(cmd.options.get("always"), "always"),
        priority=cmd.options.get("priority", "100"),
        scope=_lore_scope(cmd),
        is_moderator=True,
    )
    return "\n".join([_lore_lines(result.entry), *result.notices])


@command(
    "lore edit",
    "edit <name> [rename:<name>] [keys:<a, b>] [always:yes|no] [priority:N] [text:<text>]",
    "change a lore entry",
    "rename keys always priority text",
)
async def lore_edit(session: Session, cmd: Command) -> Any:
    changes: dict[str, Any] = {
        key: cmd.options[key] for key in ("keys", "priority", "text") if key in cmd.options
    }
    if "rename" in cmd.options:
        changes["name"] = cmd.options["rename"]
    if "always" in cmd.options:
        changes["constant"] = flag(cmd.options["always"], "always")
    result = await session.engine.lore_edit(
        session.guild_id,
        session.channel_id,
        session.user_id,
        name_argument(cmd, "lore entry to change"),
        is_moderator=True,
        **changes,
    )
    return "\n".join([_lore_lines(result.entry), *result.notices])


@command("lore remove", "remove <name>", "remove a lore entry")
async def lore_remove(session: Session, cmd: Command) -> Any:
    removed = await session.engine.lore_remove(
        session.guild_id,
        session.channel_id,
        session.user_id,
        name_argument(cmd, "lore entry to remove"),
        is_moderator=True,
    )
    return f"Removed {removed.name} from the {removed.scope} lore."


@command("lore show", "show <name>", "show a lore entry")
async def lore_show(session: Session, cmd: Command) -> Any:
    name = name_argument(cmd, "lore entry to show")
    return _lore_lines(
        (await session.engine.lore_show(session.guild_id, session.channel_id, name)).entry
    )


@command("lore list", "list", "the memory and lore here, and what the next turn reads")
async def lore_list(session: Session, cmd: Command) -> Any:
    listing = await session.engine.lore_list(session.guild_id, session.channel_id)
    lines = [f"Memory: {listing.memory or '(empty)'}"] if listing.story_id is not None else []
    lines += [_lore_lines(entry) for entry in listing.entries] or ["No lore entries yet."]
    if listing.characters_left_out:
        lines.append(
            f"Characters left out (over the budget): {', '.join(listing.characters_left_out)}"
        )
    return "\n".join(lines)


@command(
    "lore import",
    "import <file.json> [scope:story|server]",
    "import SillyTavern World Info",
    "scope",
)
async def lore_import(session: Session, cmd: Command) -> Any:
    if not cmd.words:
        raise InvalidInput("Say which lorebook file to import.")
    data = await asyncio.to_thread(read_file, " ".join(cmd.words))
    result = await session.engine.lore_import(
        session.guild_id,
        session.channel_id,
        session.user_id,
        data,
        scope=_lore_scope(cmd),
        is_moderator=True,
    )
    line = f"Imported: {result.added} new, {result.replaced} replaced, {result.skipped} skipped."
    return "\n".join([line, *result.notices])


@command(
    "lore export",
    "export <file.json> [scope:story|server]",
    "save a lorebook as World Info",
    "scope",
)
async def lore_export(session: Session, cmd: Command) -> Any:
    if not cmd.words:
        raise InvalidInput("Say which file to write.")
    exported = await session.engine.lore_export(
        session.guild_id, session.channel_id, scope=_lore_scope(cmd)
    )
    path = await asyncio.to_thread(write_file, " ".join(cmd.words), exported.data)
    return f"Saved {exported.count} lore entries as SillyTavern World Info to {path}."


# --- /style, /mod -------------------------------------------------------------------------


@command("style show", "show", "your writing-style profile")
async def style_show(session: Session, cmd: Command) -> Any:
    return await session.engine.style_show(session.user_id)


@command(
    "style set",
    "set [length:short|medium|long|default] [temperature:0.2-1.5|default]",
    "preferences for the model turns you ask for",
    "length temperature",
)
async def style_set(session: Session, cmd: Command) -> Any:
    return await session.engine.style_set(session.user_id, **cmd.options)


@command("style forget", "forget", "delete your style profile and feedback")
async def style_forget(session: Session, cmd: Command) -> Any:
    return await session.engine.style_forget(session.user_id)


@command("privacy export", "export [file]", "save a copy of all your data as JSON")
async def privacy_export(session: Session, cmd: Command) -> Any:
    export = await session.engine.privacy_export(session.user_id)
    target = " ".join(cmd.words) or export.filename
    path = await asyncio.to_thread(write_file, target, export.json_text.encode("utf-8"))
    return f"{export_text(export)} Saved to {path}."


@command("privacy delete", "delete confirm", "delete your data everywhere")
async def privacy_delete(session: Session, cmd: Command) -> Any:
    if [word.casefold() for word in cmd.words] != ["confirm"]:
        return f"{DELETE_WARNING} To go ahead: /privacy delete confirm"
    return delete_text(await session.engine.privacy_delete(session.user_id))


@command("privacy style", "style [on|off|default]", "whether the bot learns your writing style")
async def privacy_style(session: Session, cmd: Command) -> Any:
    choice = " ".join(cmd.words).casefold()
    if choice not in ("", "on", "off", "default"):
        raise InvalidInput("Use /privacy style on, off or default.")
    on = {"on": True, "off": False}.get(choice)
    result = await session.engine.privacy_style(
        session.user_id, session.guild_id, on, change=bool(choice)
    )
    return style_choice_text(result)


@command("mod queue", "queue", "open moderation events")
async def mod_queue(session: Session, cmd: Command) -> Any:
    return await session.engine.mod_queue(session.guild_id, is_moderator=True)


@command("mod resolve", "resolve <event> hide|dismiss [note:..]", "decide an event", "note")
async def mod_resolve(session: Session, cmd: Command) -> Any:
    if len(cmd.words) < 2:
        raise InvalidInput("Use /mod resolve <event id> hide|dismiss.")
    return await session.engine.mod_resolve(
        number(cmd.words[0], "The event id"),
        session.user_id,
        cmd.words[1].casefold(),
        is_moderator=True,
        guild_id=session.guild_id,
        note=cmd.options.get("note"),
    )


@command(
    "mod settings",
    'settings [level:family|teen|mature] [block:"a, b"] [unblock:..] [exempt:..] [unexempt:..] '
    "[category:profanity|slurs|...]",
    "see or change this server's moderation rules",
    "level block unblock exempt unexempt category",
)
async def mod_settings(session: Session, cmd: Command) -> Any:
    if not cmd.options:
        return await session.engine.mod_settings(session.guild_id)
    opts = cmd.options
    return await session.engine.mod_settings_set(
        session.guild_id,
        session.user_id,
        is_moderator=True,
        level=opts.get("level"),
        block=terms(opts.get("block")),
        unblock=terms(opts.get("unblock")),
        exempt=terms(opts.get("exempt")),
        unexempt=terms(opts.get("unexempt")),
        category=opts.get("category", ANY_CATEGORY),
    )
