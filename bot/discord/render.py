"""Engine results as Discord messages: text split under Discord's limits, embeds for turns and
stories, relative timestamps, and mentions that ping only the person meant.

Nothing here sends anything; each function returns `Out` values for `bot.discord.tree.reply`
or `bot.discord.present.post`. Story text (turns, premises) goes into embeds, which never ping,
and every `Out` carries allowed mentions that are empty unless it names one user to ping. Titles
and names set in the bot's own Markdown pass through `escape`, so they read as typed: no
formatting, no masked links.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import discord

from bot.story.export import label
from bot.story.links import link_notes
from bot.story.notes import turn_notes
from bot.story.reactions import reaction_note
from bot.story.results import StoryInfo, StoryPage, TurnView
from bot.story.turns import MODEL_USER_ID

MESSAGE_LIMIT = 2000
EMBED_DESCRIPTION_LIMIT = 4096
EMBED_FIELD_LIMIT = 1024
SHOW_TURN_CHARS = 1000
"""A turn longer than this is cut in `/story show`, so five turns fit one embed's 6,000."""
TURN_COLOUR = discord.Colour.from_rgb(88, 101, 242)
PENDING_COLOUR = discord.Colour.gold()
STORY_COLOUR = discord.Colour.teal()
TURN_ID = re.compile(r"\Aturn #(\d+)(?= · |\Z)")
"""A turn embed's footer starts with its id, before any user text (bylines, names)."""
TURN_BUTTON = re.compile(r"\Atw:[a-z]+:(\d+)\Z")
KIND_TITLES = {"opening": "Opening", "twist": "Plot twist", "poem": "Poem"}
_MARKUP = re.compile(r"[\\*_~|`\[\]<>#:]")
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'”’)]*\s+")


def escape(text: str) -> str:
    """User text (a title, a name) as literal text inside the bot's own Markdown: its `*`, `_`,
    `~`, `|`, backticks, brackets (masked links `[x](url)`), `<…>` mentions and `:` (links
    and timestamps) show as typed, and @everyone does not ping. Discord drops a backslash
    before punctuation, so readers see the text as it was typed. (discord.utils'
    escape_markdown leaves the second of two masked links working.)"""
    return discord.utils.escape_mentions(_MARKUP.sub(r"\\\g<0>", text))


def no_mentions() -> discord.AllowedMentions:
    return discord.AllowedMentions.none()


def only_user(user_id: int) -> discord.AllowedMentions:
    """Ping exactly this user: never @everyone, @here, roles or anyone else named in the text."""
    return discord.AllowedMentions(
        everyone=False, roles=False, replied_user=False, users=[discord.Object(id=user_id)]
    )


def relative_time(unix_seconds: float) -> str:
    """Discord renders `<t:…:R>` in each reader's clock and language ("in 5 minutes")."""
    return f"<t:{int(unix_seconds)}:R>"


@dataclass
class Out:
    """One message to send: text, embeds, buttons, files, and the one user it may ping."""

    content: str | None = None
    embeds: list[discord.Embed] = field(default_factory=list)
    view: discord.ui.View | None = None
    files: list[discord.File] = field(default_factory=list)
    ping: int | None = None

    @property
    def allowed_mentions(self) -> discord.AllowedMentions:
        return only_user(self.ping) if self.ping is not None else no_mentions()

    def send_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for `send`/`send_message`/`followup.send` (absent parts omitted)."""
        kwargs: dict[str, Any] = {"allowed_mentions": self.allowed_mentions}
        if self.content:
            kwargs["content"] = self.content
        if self.embeds:
            kwargs["embeds"] = self.embeds
        if self.view is not None:
            kwargs["view"] = self.view
        if self.files:
            kwargs["files"] = self.files
        return kwargs

    def edit_kwargs(self) -> dict[str, Any]:
        """Keyword arguments that replace a message's whole content with this one."""
        kwargs: dict[str, Any] = {
            "content": self.content or None,
            "embeds": self.embeds,
            "view": self.view,
            "allowed_mentions": self.allowed_mentions,
        }
        if self.files:
            kwargs["attachments"] = self.files
        return kwargs


def split_text(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Chunks of at most `limit` characters, cut at paragraph, then sentence, then word
    boundaries, so a long text reads naturally across messages."""
    chunks: list[str] = []
    current = ""
    for piece in _pieces(text.strip(), limit):
        joined = f"{current}{piece}" if current else piece.lstrip()
        if len(joined.rstrip()) <= limit:
            current = joined
            continue
        if current.strip():
            chunks.append(current.rstrip())
        current = piece.lstrip()
    if current.strip():
        chunks.append(current.rstrip())
    return chunks


def _pieces(text: str, limit: int) -> list[str]:
    """Paragraphs, sentences or words, each at most `limit` characters, keeping separators."""
    pieces: list[str] = []
    for paragraph in re.split(r"(?<=\n\n)", text):
        if len(paragraph) <= limit:
            pieces.append(paragraph)
            continue
        for sentence in _sentences(paragraph):
            if len(sentence) <= limit:
                pieces.append(sentence)
                continue
            for word in re.split(r"(?<=\s)", sentence):
                pieces += [word[i : i + limit] for i in range(0, len(word), limit)]
    return pieces


def _sentences(paragraph: str) -> list[str]:
    """The paragraph cut after each sentence end, the spaces kept with the sentence."""
    parts: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(paragraph):
        parts.append(paragraph[start : match.end()])
        start = match.end()
    parts.append(paragraph[start:])
    return [part for part in parts if part]


def text_messages(text: str) -> list[Out]:
    """Plain text as as many messages as it needs."""
    return [Out(content=chunk) for chunk in split_text(text) or ["…"]]


# --- turns ---------------------------------------------------------------------------------


def turn_footer(turn: TurnView) -> str:
    parts = [f"turn #{turn.id}", turn.byline]
    if turn.edited:
        parts.append("edited")
    if turn.pending and turn.alt_count > 1:
        parts.append(f"alternative {turn.alt_index}/{turn.alt_count}")
    if turn.fallback:
        parts.append("safe fallback line")
    return " · ".join(parts)


def turn_embed(turn: TurnView) -> discord.Embed:
    """A turn as readers see it: its text, what kind it is, and its byline with its id."""
    title = KIND_TITLES.get(turn.kind)
    if turn.kind == "dialogue" and turn.character_name:
        title = turn.character_name
    colour = PENDING_COLOUR if turn.pending else TURN_COLOUR
    embed = discord.Embed(title=title, description=turn.text, colour=colour)
    embed.set_footer(text=turn_footer(turn))
    return embed


def turn_id_in(message: discord.Message) -> int | None:
    """The id of the turn a bot message shows, if it shows one: from its buttons' custom ids,
    else from the start of its turn embed's footer. Only the bot writes either place; a name
    such as "turn #5" in a byline or on a story card cannot be taken for an id."""
    for row in message.components:
        for item in getattr(row, "children", ()):
            match = TURN_BUTTON.match(getattr(item, "custom_id", None) or "")
            if match:
                return int(match[1])
    for embed in message.embeds:
        match = TURN_ID.match(embed.footer.text or "")
        if match:
            return int(match[1])
    return None


def auto_kept_note(kept: TurnView | None) -> str | None:
    if kept is None:
        return None
    return f"Kept turn #{kept.id}, the alternative shown, as the story moved on."


WRITING = "✍️ *writing…*"
WRITING_TAIL_CHARS = 900
"""The latest part of a turn in progress that its placeholder shows: escaped, it fits a message."""


def writing_text(text: str) -> str:
    """A model turn in progress, as its placeholder shows it while the model writes."""
    tail = text if len(text) <= WRITING_TAIL_CHARS else "…" + text[-WRITING_TAIL_CHARS:]
    return f"{WRITING}\n{escape(tail)}"


def notes(*lines: str | None) -> str | None:
    text = "\n".join(line for line in lines if line)
    return text or None


# --- stories -------------------------------------------------------------------------------


def whose_turn(story: StoryInfo) -> str | None:
    """ "It's bob's turn (due in 5 minutes)." for round-robin; None otherwise."""
    if story.status != "active":
        return f"The story is {story.status}."
    if story.mode != "round_robin":
        return None
    if story.current_writer is None:
        return "Nobody holds the turn; /story join to take it."
    line = f"It's **{escape(story.current_writer.name)}**'s turn"
    if story.turn_deadline is not None:
        line += f", due {relative_time(story.turn_deadline)}"
    return line + "."


def next_writer_ping(story: StoryInfo, actor_id: int | None) -> Out | None:
    """A message that pings the round-robin writer now holding the turn (not the person who
    just acted: they know)."""
    writer = story.current_writer
    if story.status != "active" or story.mode != "round_robin" or writer is None:
        return None
    if writer.user_id in (actor_id, MODEL_USER_ID):
        return None
    text = f"<@{writer.user_id}>, it's your turn in **{escape(story.title)}**"
    if story.turn_deadline is not None:
        text += f" (due {relative_time(story.turn_deadline)})"
    return Out(content=text + ".", ping=writer.user_id)


def story_embed(story: StoryInfo, heading: str | None = None) -> discord.Embed:
    """The story's card: title, premise, settings, writers and whose turn it is."""
    embed = discord.Embed(
        title=story.title,
        description=story.premise or None,
        colour=STORY_COLOUR,
    )
    if heading:
        embed.set_author(name=heading)
    mode = "round-robin" if story.mode == "round_robin" else "free for all"
    embed.add_field(name="Genre", value=label(story.genre))
    embed.add_field(name="Mood", value=story.mood or "any")
    embed.add_field(name="Mode", value=mode)
    if story.mode == "round_robin":
        timeout = f"{story.turn_timeout_s} s" if story.turn_timeout_s else "no limit"
        action = "the model writes" if story.timeout_action == "ai" else "skipped"
        embed.add_field(name="Turn time", value=f"{timeout} (then {action})")
        seat = f"yes ({story.model_voice})" if story.model_seat else "no"
        embed.add_field(name="Model's seat", value=seat)
    embed.add_field(name="Rerolls", value="by vote" if story.reroll_policy == "vote" else "owner")
    embed.add_field(name="Writers", value=_clip(writers(story), EMBED_FIELD_LIMIT))
    turn = whose_turn(story)
    if turn:
        embed.add_field(name="Now", value=turn, inline=False)
    embed.set_footer(text=f"story #{story.id} · started by {story.owner_name}")
    return embed


def writers(story: StoryInfo) -> str:
    names = [
        escape(p.name) + (f" (as {escape(p.character_name)})" if p.character_name else "")
        for p in story.participants
    ]
    return ", ".join(names) or "nobody yet"


def story_page(page: StoryPage) -> discord.Embed:
    """One page of `/story show`; long turns are cut (the export has every word)."""
    lines = [f"-# {escape(note)}" for note in link_notes(page.links)]
    for turn in page.turns:
        entry = [f"{_clip(turn.text, SHOW_TURN_CHARS)}", f"— *{escape(turn.byline)}*"]
        entry += [f"-# {escape(note)}" for note in turn_notes(turn)]
        if (note := reaction_note(page, turn.id)) is not None:
            entry.append(f"-# {discord.utils.escape_mentions(note)}")
        lines.append("\n".join(entry))
    if page.pending is not None:
        lines.append(
            f"*Waiting for Keep:*\n{_clip(page.pending.text, SHOW_TURN_CHARS)}\n"
            f"— *{escape(page.pending.byline)}*"
        )
    if not lines:
        lines.append("No turns yet: write one, or ask /story continue.")
    embed = discord.Embed(
        title=page.story.title,
        description=_clip("\n\n".join(lines), EMBED_DESCRIPTION_LIMIT),
        colour=STORY_COLOUR,
    )
    embed.set_footer(
        text=f"story #{page.story.id} · page {page.page} of {page.pages} · {page.total} turns"
    )
    return embed


def story_lines(stories: Sequence[StoryInfo]) -> str:
    if not stories:
        return "No stories yet. Start one with /story start."
    return "\n".join(
        f"#{s.id} **{escape(s.title)}** — {label(s.genre)}, {s.status}, in <#{s.place_id}>, "
        f"owned by {escape(s.owner_name)}"
        for s in stories
    )


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
