"""`/story`: start, join and play a story, ask the model for turns, read and export it.

Each command reads ids, acknowledges at once when the model (moderation's classifier
included), a file or a new thread is involved (`think`), calls one engine operation and
renders its result.
"""

from __future__ import annotations

import io
import logging
from contextlib import nullcontext
from typing import TYPE_CHECKING, cast

import discord
from discord import app_commands
from discord.app_commands import Choice, Range
from discord.ext import commands

from bot.discord.actor import Actor
from bot.discord.buttons import PAGE_SIZE, page_buttons, show_turn, turn_out
from bot.discord.edit_turns import edit_command
from bot.discord.fork_stories import fork_command
from bot.discord.lookups import character_choices
from bot.discord.modals import WriteModal
from bot.discord.present import live_placeholder, post, remove_shown
from bot.discord.render import (
    Out,
    escape,
    next_writer_ping,
    notes,
    story_embed,
    story_lines,
    story_page,
    text_messages,
    whose_turn,
)
from bot.discord.tree import reply, think
from bot.errors import UserFacingError
from bot.story.export import label
from bot.story.results import Recap, StoryInfo
from generators.schemas import GENRES, MOODS
from storage.models import RerollPolicy, StoryMode, StorySettings, TimeoutAction

if TYPE_CHECKING:
    from bot.discord.client import StoryBot

log = logging.getLogger("talewright.discord")

GENRE_CHOICES = [Choice(name=label(g), value=g) for g in GENRES]
MOOD_CHOICES = [Choice(name=m, value=m) for m in MOODS]
MOOD_OR_NONE = [*MOOD_CHOICES, Choice(name="none", value="none")]
MODE_CHOICES = [
    Choice(name="free for all", value="free"),
    Choice(name="round-robin", value="round_robin"),
]
TIMEOUT_ACTIONS = [
    Choice(name="skip the writer", value="skip"),
    Choice(name="the model writes for them", value="ai"),
]
REROLL_CHOICES = [
    Choice(name="the owner or a moderator", value="owner"),
    Choice(name="a vote of the players", value="vote"),
]
EXPORT_CHOICES = [
    Choice(name="Markdown", value="markdown"),
    Choice(name="HTML page", value="html"),
    Choice(name="EPUB book", value="epub"),
]
FORMAT_NAMES = {"markdown": "Markdown", "html": "an HTML page", "epub": "an EPUB book"}
VOICE_CHOICES = [
    Choice(name="narration", value="narration"),
    Choice(name="characters nobody plays", value="characters"),
    Choice(name="characters, and now and then a twist", value="mixed"),
]
TurnSeconds = Range[int, 10, 604800]
THREAD_ARCHIVE_MINUTES = 10080


@app_commands.guild_only()
class StoryCog(
    commands.GroupCog, group_name="story", group_description="Write a story together, turn by turn"
):
    def __init__(self, bot: StoryBot) -> None:
        self.bot = bot
        self.engine = bot.engine

    # --- starting and membership -------------------------------------------------------

    @app_commands.command(description="Start a story (in its own thread when the channel allows)")
    @app_commands.describe(
        title="The story's title",
        genre="What kind of story",
        premise="What it is about, in a sentence or two",
        mood="The mood the model aims for",
        mode="Free for all, or round-robin with one writer at a time",
        turn_timeout="Round-robin: seconds each writer has (10 to 604800)",
        timeout_action="Round-robin: what happens when a writer's time runs out",
        reroll="Who may ask the model for another version of its turn",
        opening="Let the model write the opening",
        style_matching="Prefer model turns close to the requester's writing style",
    )
    @app_commands.choices(
        genre=GENRE_CHOICES,
        mood=MOOD_CHOICES,
        mode=MODE_CHOICES,
        timeout_action=TIMEOUT_ACTIONS,
        reroll=REROLL_CHOICES,
    )
    async def start(
        self,
        interaction: discord.Interaction,
        title: Range[str, 1, 200],
        genre: str,
        premise: Range[str, 1, 2000] | None = None,
        mood: str | None = None,
        mode: str = "free",
        turn_timeout: TurnSeconds | None = None,
        timeout_action: str = "skip",
        reroll: str = "owner",
        opening: bool = False,
        style_matching: bool = False,
    ) -> None:
        actor = Actor.of(interaction)
        claim = (
            self.bot.cooldowns.claim(actor.user_id, actor.place_id, actor.guild_id)
            if opening
            else nullcontext()
        )
        limits = self.bot.start_limits.claim(actor.user_id, actor.place_id, actor.guild_id)
        async with limits, claim:
            await think(interaction)
            # A model opening keeps people waiting: a crash must not leave them so.
            tracked = self.bot.inflight.track(interaction) if opening else nullcontext()
            async with tracked:
                # Refused before anything shows on Discord: a blocked title never names a thread.
                vetted = await self.engine.vet_start(
                    actor.guild_id, actor.user_id, title, premise or ""
                )
                thread = await self._open_thread(interaction, vetted.title)
                channel_id, thread_id = _place(interaction, thread)
                try:
                    result = await self.engine.start(
                        actor.guild_id,
                        channel_id,
                        actor.user_id,
                        actor.name,
                        StorySettings(
                            title=title,
                            genre=genre,
                            premise=premise or "",
                            mood=mood,
                            # Discord offers only the choices above; engine.start checks
                            # them again (check_settings).
                            mode=cast(StoryMode, mode),
                            turn_timeout_s=turn_timeout,
                            timeout_action=cast(TimeoutAction, timeout_action),
                            reroll_policy=cast(RerollPolicy, reroll),
                            style_matching=style_matching,
                        ),
                        ai_opening=opening,
                        thread_id=thread_id,
                    )
                except UserFacingError:
                    if thread is not None:
                        await self._discard_thread(interaction, thread)
                    raise
                outs = [
                    Out(
                        content=notes(*result.notices),
                        embeds=[story_embed(result.story, "New story")],
                    )
                ]
                if result.opening is not None:
                    outs.append(turn_out(result.opening))
                if thread is None:
                    sent = await reply(interaction, outs)
                else:
                    sent = await post(self.bot, thread.id, outs)
                    title_shown = escape(result.story.title)
                    started = (
                        f"Started **{title_shown}** in {thread.mention}: the story lives there."
                    )
                    await reply(interaction, [Out(content=started)])
                if result.opening is not None and len(sent) > 1:
                    self.bot.board.remember(result.opening.id, sent[1].channel.id, sent[1].id)

    async def _open_thread(
        self, interaction: discord.Interaction, title: str
    ) -> discord.Thread | None:
        """A public thread for the story (its owner added, so it shows in their list), when
        started in a text channel the bot may open threads in (Create Public Threads, Send
        Messages in Threads); otherwise the story is played where it was started. `title` is
        the moderated one."""
        channel = interaction.channel
        allowed = interaction.app_permissions
        if not isinstance(channel, discord.TextChannel) or not (
            allowed.create_public_threads and allowed.send_messages_in_threads
        ):
            return None
        try:
            thread = await channel.create_thread(
                name=title.strip()[:100] or "Story",
                type=discord.ChannelType.public_thread,
                auto_archive_duration=THREAD_ARCHIVE_MINUTES,
            )
        except discord.HTTPException as exc:
            log.info("could not open a thread in %s (%s); playing in the channel", channel.id, exc)
            return None
        try:
            await thread.add_user(interaction.user)
        except discord.HTTPException as exc:
            log.info("could not add the owner to thread %s: %s", thread.id, exc)
        return thread

    async def _discard_thread(
        self, interaction: discord.Interaction, thread: discord.Thread
    ) -> None:
        """Delete the thread of a story that could not start, when the bot may (Manage
        Threads); otherwise it stays, empty, for a moderator to remove."""
        if not interaction.app_permissions.manage_threads:
            log.info("left unused thread %s: no Manage Threads permission", thread.id)
            return
        try:
            await thread.delete()
        except discord.HTTPException as exc:
            log.info("could not delete unused thread %s: %s", thread.id, exc)

    @app_commands.command(description="Join the story here")
    async def join(self, interaction: discord.Interaction) -> None:
        actor = Actor.of(interaction)
        result = await self.engine.join(actor.place_id, actor.user_id, actor.name)
        verb = "joined" if result.changed else "is already in"
        text = f"**{escape(result.user_name)}** {verb} **{escape(result.story.title)}**."
        await reply(interaction, [Out(content=notes(text, whose_turn(result.story)))])

    @app_commands.command(description="Leave the story here")
    async def leave(self, interaction: discord.Interaction) -> None:
        actor = Actor.of(interaction)
        result = await self.engine.leave(actor.place_id, actor.user_id)
        passed = "Their turn passes on." if result.passed_turn else None
        text = notes(
            f"**{escape(result.user_name)}** left **{escape(result.story.title)}**.", passed
        )
        await self._answer_with_ping(interaction, Out(content=text), result.story)

    # --- turns ---------------------------------------------------------------------------

    @app_commands.command(description="Write the next turn (leave text empty for a long one)")
    @app_commands.describe(
        text="Your turn; leave it out to write a long one in a form",
        character="Write as this character",
    )
    async def write(
        self,
        interaction: discord.Interaction,
        text: Range[str, 1, 4000] | None = None,
        character: Range[str, 1, 100] | None = None,
    ) -> None:
        if text is None:

            async def submit(modal_interaction: discord.Interaction, typed: str) -> None:
                await self._write(modal_interaction, typed, character)

            await interaction.response.send_modal(
                WriteModal(self.bot.settings.max_turn_chars, submit)
            )
            return
        await self._write(interaction, text, character)

    async def _write(
        self, interaction: discord.Interaction, text: str, character: str | None
    ) -> None:
        actor = Actor.of(interaction)
        await think(interaction)
        result = await self.engine.write(actor.place_id, actor.user_id, actor.name, text, character)
        await show_turn(
            interaction,
            result.story,
            result.turn,
            auto_kept=result.auto_kept,
            notices=result.notices,
        )

    @app_commands.command(name="continue", description="The model writes the next turn")
    async def continue_(self, interaction: discord.Interaction) -> None:
        await self._generate(interaction, "continue")

    @app_commands.command(description="The model writes a plot twist")
    async def twist(self, interaction: discord.Interaction) -> None:
        await self._generate(interaction, "twist")

    @app_commands.command(description="The model writes a line for a character")
    @app_commands.describe(character="Who speaks")
    async def say(self, interaction: discord.Interaction, character: Range[str, 1, 100]) -> None:
        await self._generate(interaction, "dialogue", character=character)

    @app_commands.command(description="The model writes a short poem into the story")
    @app_commands.describe(theme="What the poem is about")
    async def poem(
        self, interaction: discord.Interaction, theme: Range[str, 1, 300] | None = None
    ) -> None:
        await self._generate(interaction, "poem", theme=theme)

    async def _generate(
        self,
        interaction: discord.Interaction,
        kind: str,
        *,
        character: str | None = None,
        theme: str | None = None,
    ) -> None:
        actor = Actor.of(interaction)
        async with self.bot.cooldowns.claim(actor.user_id, actor.place_id, actor.guild_id):
            await think(interaction)
            async with self.bot.inflight.track(interaction):
                result = await self.engine.ai_turn(
                    actor.place_id,
                    actor.user_id,
                    kind,
                    character,
                    theme,
                    user_name=actor.name,
                    live=live_placeholder(interaction),
                )
                await show_turn(
                    interaction,
                    result.story,
                    result.turn,
                    auto_kept=result.auto_kept,
                    notices=result.notices,
                )

    @write.autocomplete("character")
    @say.autocomplete("character")
    async def _character_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[Choice[str]]:
        return await character_choices(self.engine, interaction, current)

    @app_commands.command(description="Round-robin: pass the turn on")
    async def skip(self, interaction: discord.Interaction) -> None:
        actor = Actor.of(interaction)
        result = await self.engine.skip(
            actor.place_id, actor.user_id, is_moderator=actor.is_moderator
        )
        name = result.skipped.name if result.skipped else "the writer"
        await self._answer_with_ping(
            interaction, Out(content=f"Skipped **{escape(name)}**'s turn."), result.story
        )

    @app_commands.command(description="Remove the last turn (owner or moderator)")
    async def undo(self, interaction: discord.Interaction) -> None:
        actor = Actor.of(interaction)
        result = await self.engine.undo(
            actor.place_id, actor.user_id, is_moderator=actor.is_moderator
        )
        removed = [f"Removed turn #{v.id} ({v.byline})." for v in result.removed[-1:]]
        text = notes(*removed, *result.notices, whose_turn(result.story))
        await remove_shown(self.bot, result.removed)
        await self._answer_with_ping(interaction, Out(content=text), result.story)

    @app_commands.command(description="Edit a kept turn (yours, or as owner or moderator)")
    @app_commands.describe(
        turn="The turn's number (turn #N under it)",
        text="The new text; leave it out to change the turn's text in a form",
    )
    async def edit(
        self,
        interaction: discord.Interaction,
        turn: Range[int, 1],
        text: Range[str, 1, 4000] | None = None,
    ) -> None:
        await edit_command(interaction, turn, text)

    @app_commands.command(description="Branch the story into a new thread, up to a turn")
    @app_commands.describe(
        at="The last turn the fork keeps (turn #N under it; default: the latest)",
        story="A story's id (default: the one here)",
    )
    async def fork(
        self,
        interaction: discord.Interaction,
        at: Range[int, 1] | None = None,
        story: int | None = None,
    ) -> None:
        await fork_command(interaction, at, story)

    @app_commands.command(description="Bring a character into the story")
    @app_commands.describe(character="The character to bring in")
    async def cast(self, interaction: discord.Interaction, character: Range[str, 1, 100]) -> None:
        actor = Actor.of(interaction)
        result = await self.engine.cast(actor.place_id, actor.user_id, character)
        plays = f" {escape(actor.name)} plays them." if result.plays_as else ""
        title = escape(result.story.title)
        text = f"**{escape(result.character.name)}** joins **{title}**.{plays}"
        await reply(interaction, [Out(content=text)])

    cast.autocomplete("character")(_character_choices)

    # --- reading ---------------------------------------------------------------------------

    @app_commands.command(description="The last turns in a sentence each (only you see it)")
    @app_commands.describe(turns="How many turns", story="A story's id (default: the one here)")
    async def recap(
        self,
        interaction: discord.Interaction,
        turns: Range[int, 1, 50] | None = None,
        story: int | None = None,
    ) -> None:
        actor = Actor.of(interaction)
        result = await self.engine.recap(
            turns=turns, guild_id=actor.guild_id, can_view=actor.can_view, **_which(actor, story)
        )
        await reply(interaction, text_messages(recap_text(result)), private=True)

    @app_commands.command(description="Read the story, a page at a time (only you see it)")
    @app_commands.describe(page="Page number (default: the last)", story="A story's id")
    async def show(
        self,
        interaction: discord.Interaction,
        page: Range[int, 1, 100000] | None = None,
        story: int | None = None,
    ) -> None:
        actor = Actor.of(interaction)
        result = await self.engine.show(
            page=page,
            page_size=PAGE_SIZE,
            guild_id=actor.guild_id,
            can_view=actor.can_view,
            **_which(actor, story),
        )
        shown = Out(embeds=[story_page(result)], view=page_buttons(result))
        await reply(interaction, [shown], private=True)

    @app_commands.command(description="The whole story as a file: Markdown, HTML or EPUB")
    @app_commands.describe(
        story="A story's id (default: the one here; by id only you see it)",
        format="Markdown (default), a single HTML page, or an EPUB book",
    )
    @app_commands.choices(format=EXPORT_CHOICES)
    async def export(
        self, interaction: discord.Interaction, story: int | None = None, format: str = "markdown"
    ) -> None:
        """The story here is exported for the channel to see; one asked for by id may be from
        a channel others here cannot read, so it comes privately."""
        actor = Actor.of(interaction)
        private = story is not None
        await think(interaction, private=private)
        result = await self.engine.export(
            guild_id=actor.guild_id, can_view=actor.can_view, format=format, **_which(actor, story)
        )
        file = discord.File(io.BytesIO(result.data), filename=result.filename)
        text = f"**{escape(result.story.title)}** as {FORMAT_NAMES[result.format]}."
        await reply(interaction, [Out(content=text, files=[file])], private=private)

    @app_commands.command(name="list", description="This server's stories (only you see it)")
    async def list_(self, interaction: discord.Interaction) -> None:
        actor = Actor.of(interaction)
        result = await self.engine.list_stories(actor.guild_id, can_view=actor.can_view)
        await reply(interaction, text_messages(story_lines(result.stories)), private=True)

    # --- running the story -----------------------------------------------------------------

    @app_commands.command(description="Stop taking turns for now (owner or moderator)")
    async def pause(self, interaction: discord.Interaction) -> None:
        actor = Actor.of(interaction)
        result = await self.engine.pause(
            actor.place_id, actor.user_id, is_moderator=actor.is_moderator
        )
        paused = f"**{escape(result.story.title)}** is paused."
        await reply(interaction, [Out(content=paused)])

    @app_commands.command(description="Take turns again (owner or moderator)")
    async def resume(self, interaction: discord.Interaction) -> None:
        actor = Actor.of(interaction)
        result = await self.engine.resume(
            actor.place_id, actor.user_id, is_moderator=actor.is_moderator
        )
        text = notes(f"**{escape(result.story.title)}** is back on.", whose_turn(result.story))
        await self._answer_with_ping(interaction, Out(content=text), result.story)

    @app_commands.command(description="End the story (owner or moderator)")
    async def end(self, interaction: discord.Interaction) -> None:
        actor = Actor.of(interaction)
        result = await self.engine.end(
            actor.place_id, actor.user_id, is_moderator=actor.is_moderator
        )
        text = notes(f"**{escape(result.story.title)}** has ended. The end!", *result.notices)
        await reply(interaction, [Out(content=text)])

    @app_commands.command(description="See or change the story's settings")
    @app_commands.describe(
        title="A new title",
        mood="The mood the model aims for",
        mode="Free for all, or round-robin",
        turn_timeout="Round-robin: seconds per turn (0 turns the clock off)",
        timeout_action="Round-robin: what happens when a writer's time runs out",
        reroll="Who may ask for another version of a model turn",
        style_matching="Prefer model turns close to the requester's style",
        model_seat="Round-robin: the model takes turns of its own (false takes its seat away)",
        model_voice="What the model writes in its own seat",
    )
    @app_commands.choices(
        mood=MOOD_OR_NONE,
        mode=MODE_CHOICES,
        timeout_action=TIMEOUT_ACTIONS,
        reroll=REROLL_CHOICES,
        model_voice=VOICE_CHOICES,
    )
    async def settings(
        self,
        interaction: discord.Interaction,
        title: Range[str, 1, 200] | None = None,
        mood: str | None = None,
        mode: str | None = None,
        turn_timeout: Range[int, 0, 604800] | None = None,
        timeout_action: str | None = None,
        reroll: str | None = None,
        style_matching: bool | None = None,
        model_seat: bool | None = None,
        model_voice: str | None = None,
    ) -> None:
        actor = Actor.of(interaction)
        given = {
            "title": title,
            "mood": mood,
            "mode": mode,
            "turn_timeout_s": turn_timeout,
            "timeout_action": timeout_action,
            "reroll_policy": reroll,
            "style_matching": style_matching,
            "model_seat": model_seat,
            "model_voice": model_voice,
        }
        changes = {key: value for key, value in given.items() if value is not None}
        if changes.get("mood") == "none":
            changes["mood"] = None
        if changes.get("turn_timeout_s") == 0:
            changes["turn_timeout_s"] = None
        result = await self.engine.settings(
            actor.place_id, actor.user_id, is_moderator=actor.is_moderator, **changes
        )
        heading = "Settings changed" if result.changed else "Settings"
        card = Out(embeds=[story_embed(result.story, heading)])
        await reply(interaction, [card], private=not result.changed)

    async def _answer_with_ping(
        self, interaction: discord.Interaction, out: Out, story: StoryInfo
    ) -> None:
        ping = next_writer_ping(story, interaction.user.id)
        await reply(interaction, [out] if ping is None else [out, ping])


def _place(
    interaction: discord.Interaction, thread: discord.Thread | None
) -> tuple[int, int | None]:
    """(channel, thread) of a new story: its new thread, the thread it was started in, or
    the channel itself."""
    channel = interaction.channel
    if thread is not None and thread.parent_id is not None:
        return thread.parent_id, thread.id
    if isinstance(channel, discord.Thread) and channel.parent_id is not None:
        return channel.parent_id, channel.id
    return Actor.of(interaction).place_id, None


def _which(actor: Actor, story_id: int | None) -> dict[str, int]:
    """A story by id, else the one played where the command was used."""
    return {"story_id": story_id} if story_id is not None else {"channel_id": actor.place_id}


def recap_text(recap: Recap) -> str:
    lines = [f"Recap of **{escape(recap.story.title)}** ({recap.total_turns} turns kept):"]
    for line in recap.lines:
        mark = " (not kept yet)" if line.pending and "not kept" not in line.byline else ""
        lines.append(f"- {line.sentence} — *{escape(line.byline)}*{mark}")
    if not recap.lines:
        lines.append("Nothing has happened yet.")
    return "\n".join(lines)


async def setup(bot: StoryBot) -> None:
    await bot.add_cog(StoryCog(bot))
