"""User text in the bot's own Markdown, offline: titles and names read as typed (no formatting,
masked links or pings), and "Report turn" finds a turn's id only where the bot wrote it."""

from __future__ import annotations

import re
from dataclasses import replace

import discord
from discord_testing import story, turn

from bot.discord.buttons import turn_buttons
from bot.discord.render import escape, story_embed, story_lines, story_page, turn_embed, turn_id_in
from bot.discord.render_characters import sheet_text
from bot.story.export import to_markdown
from bot.story.results import CharacterView, ParticipantView, StoryPage

LINK = "[free nitro](https://evil.example/x)"
MASKED = re.compile(r"(?<!\\)\[free nitro\]\(")
"""The link as Discord would render it: a `[` nobody escaped."""


def message_with(*embeds: discord.Embed, view: discord.ui.View | None = None) -> discord.Message:
    message = discord.Message.__new__(discord.Message)
    message.embeds = list(embeds)
    rows = []
    if view is not None:
        rows = [discord.ActionRow(data) for data in view.to_components()]
    message.components = rows
    return message


def test_a_name_like_turn_5_on_a_story_card_is_not_a_turn() -> None:
    card = story_embed(replace(story(1), owner_name="turn #5", title="turn #5"))
    assert turn_id_in(message_with(card)) is None


def test_a_turn_is_found_by_its_own_id_whatever_its_byline_says() -> None:
    shown = replace(turn(turn_id=12), byline="turn #5 · kept by turn #6")
    assert turn_id_in(message_with(turn_embed(shown))) == 12
    kept = replace(shown, state="accepted")
    assert turn_id_in(message_with(turn_embed(kept))) == 12


def test_a_turn_with_buttons_is_found_by_their_custom_ids() -> None:
    forged = discord.Embed(description="x").set_footer(text="turn #5 · someone")
    view = turn_buttons(turn(turn_id=33))
    assert turn_id_in(message_with(forged, view=view)) == 33


def test_titles_and_names_read_as_typed_and_ping_nobody() -> None:
    escaped = escape(f"**Big** {LINK} @everyone")
    assert "\\*\\*Big\\*\\*" in escaped and "\\[free nitro\\]" in escaped
    assert "@everyone" not in escaped
    owner = f"{LINK} _x_"
    info = replace(
        story(4),
        title=LINK,
        owner_name=owner,
        participants=(ParticipantView(user_id=3, name=owner, seat=1, active=True),),
    )
    listed = story_lines([info])
    assert not MASKED.search(listed) and escape(LINK) in listed
    writers = {f.name: f.value for f in story_embed(info).fields}["Writers"]
    assert writers == escape(owner)
    page = StoryPage(
        story=info,
        turns=(replace(turn(), byline=f"{LINK}, kept by {LINK}", state="accepted"),),
        page=1,
        pages=1,
        page_size=5,
        total=1,
        pending=None,
    )
    assert not MASKED.search(story_page(page).description or "")


def test_character_sheets_and_exports_escape_names() -> None:
    sheet = CharacterView.__new__(CharacterView)
    for key, value in {
        "id": 1,
        "name": LINK,
        "owner_id": 3,
        "imported": False,
        "description": "",
        "personality": "",
        "speech_style": "",
        "backstory": "",
        "first_message": "",
        "tags": (LINK,),
    }.items():
        object.__setattr__(sheet, key, value)
    assert not MASKED.search(sheet_text(sheet))
    info = replace(story(4), title=LINK, owner_name="*Ann*")
    markdown = to_markdown(info, [replace(turn(), byline=LINK, state="accepted")], None)
    assert not MASKED.search(markdown) and "# \\[free nitro\\](https://evil.example/x)" in markdown
    assert "Started by \\*Ann\\*" in markdown
