"""The bot's commands and components against Discord's limits, offline: the JSON a sync would
send (names, descriptions, option and choice counts), no two commands colliding, custom ids and
modals that Discord accepts, and the intents asked for."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import discord
import pytest
from discord_testing import BIGGEST_ID, story, turn

from bot.cli.commands_bot import add_bot_command
from bot.cli.main import build_parser
from bot.discord.buttons import page_buttons, turn_buttons
from bot.discord.client import COGS, StoryBot, intents_for
from bot.discord.custom_ids import TURN_ACTIONS
from bot.discord.modals import PAGES, SheetFlow, SheetModal, WriteModal
from bot.settings import BotSection
from bot.story import StoryEngine
from bot.story.results import StoryPage

NAME = re.compile(r"^[-_'\w]{1,32}$")
CHAT_INPUT, SUBCOMMAND, GROUP = 1, 1, 2


@pytest.fixture
async def bot(engine: StoryEngine) -> StoryBot:
    """The bot with its cogs loaded, never connected."""
    story_bot = StoryBot(engine, BotSection())
    for name in COGS:
        await story_bot.load_extension(name)
    return story_bot


def payloads(bot: StoryBot) -> list[dict[str, Any]]:
    return [command.to_dict(bot.tree) for command in bot.tree.get_commands()]


def walk(options: list[dict[str, Any]], path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    for option in options:
        where = f"{path} {option['name']}"
        yield where, option
        if option["type"] in (SUBCOMMAND, GROUP):
            yield from walk(option.get("options", []), where)


async def test_every_command_fits_discords_limits(bot: StoryBot) -> None:
    commands = payloads(bot)
    assert len(commands) <= 100
    problems = []
    for command in commands:
        if command.get("type", CHAT_INPUT) == CHAT_INPUT:
            items = [(f"/{command['name']}", command), *walk(command["options"], command["name"])]
        else:
            if not 1 <= len(command["name"]) <= 32:
                problems.append(f"context menu name {command['name']!r}")
            continue
        for where, item in items:
            name, description = item["name"], item.get("description", "")
            if not NAME.match(name) or name != name.lower():
                problems.append(f"{where}: name {name!r}")
            if not 1 <= len(description) <= 100:
                problems.append(f"{where}: description of {len(description)} characters")
            if len(item.get("options", [])) > 25 or len(item.get("choices", [])) > 25:
                problems.append(f"{where}: over 25 options or choices")
            for choice in item.get("choices", []):
                if not 1 <= len(choice["name"]) <= 100 or len(str(choice["value"])) > 100:
                    problems.append(f"{where}: choice {choice['name']!r}")
            required = [o.get("required", False) for o in item.get("options", [])]
            if required != sorted(required, reverse=True):
                problems.append(f"{where}: a required option after an optional one")
    assert problems == []


async def test_no_two_commands_or_options_collide(bot: StoryBot) -> None:
    commands = payloads(bot)
    top = Counter((c["name"], c.get("type", CHAT_INPUT)) for c in commands)
    assert [key for key, n in top.items() if n > 1] == []
    for command in commands:
        for where, item in [(command["name"], command), *walk(command.get("options", []), "")]:
            names = Counter(o["name"] for o in item.get("options", []))
            assert [n for n, count in names.items() if count > 1] == [], where


async def test_the_expected_commands_are_there(bot: StoryBot) -> None:
    found = {
        c["name"]: sorted(o["name"] for o in c.get("options", []) if o["type"] == SUBCOMMAND)
        for c in payloads(bot)
    }
    assert set(found["story"]) >= {
        "start", "join", "leave", "write", "continue", "twist", "say", "poem", "recap", "show",
        "export", "undo", "pause", "resume", "end", "list", "settings", "cast",
    }  # fmt: skip
    assert found["character"] == sorted(
        ["create", "edit", "show", "list", "delete", "import", "export"]
    )
    assert found["style"] == ["forget", "set", "show"]
    assert found["mod"] == ["queue", "reactions", "resolve", "settings"]
    assert found["Report turn"] == []
    [mod] = [c for c in payloads(bot) if c["name"] == "mod"]
    assert int(mod["default_member_permissions"]) == discord.Permissions(manage_messages=True).value


def buttons(view: discord.ui.View) -> list[discord.ui.Button[Any]]:
    return [item.item for item in view.children if isinstance(item, discord.ui.DynamicItem)]


def custom_ids(view: discord.ui.View) -> list[str]:
    return [button.custom_id or "" for button in buttons(view)]


def test_turn_buttons_carry_the_turn_and_fit_in_a_custom_id() -> None:
    view = turn_buttons(turn(2, 3))
    ids = custom_ids(view)
    assert ids == [f"tw:{action}:{BIGGEST_ID}" for action in TURN_ACTIONS]
    assert all(len(i) <= 100 for i in ids)
    assert view.timeout is None and len(view.children) <= 5
    ends = {b.label: b.disabled for b in buttons(turn_buttons(turn(1, 2)))}
    assert ends["◀"] and not ends["▶"]


def test_page_buttons_fit_and_stop_at_the_ends() -> None:
    info = story()
    page = StoryPage(info, (), 3, 999_999_999, 5, 10, None)
    view = page_buttons(page)
    assert view is not None
    assert all(len(i) <= 100 for i in custom_ids(view))
    assert page_buttons(StoryPage(info, (), 1, 1, 5, 1, None)) is None


async def never(interaction: discord.Interaction, values: Any) -> None:
    raise AssertionError("not submitted in this test")


async def test_modals_have_at_most_five_inputs_within_discords_limits() -> None:
    flow = SheetFlow("Edit " + "N" * 100, 1, {"description": "d" * 5000}, never)
    modals = [WriteModal(1800, never), *(SheetModal(flow, page) for page in range(len(PAGES)))]
    for modal in modals:
        labels = [item for item in modal.children if isinstance(item, discord.ui.Label)]
        inputs = [item for item in modal.walk_children() if isinstance(item, discord.ui.TextInput)]
        assert 1 <= len(labels) == len(inputs) == len(modal.children) <= 5
        assert len(modal.title) <= 45 and len(modal.custom_id) <= 100
        assert all(1 <= len(label.text) <= 45 for label in labels)
        assert all((text_input.max_length or 0) <= 4000 for text_input in inputs)
    first_page = [
        i.custom_id for i in modals[1].walk_children() if isinstance(i, discord.ui.TextInput)
    ]
    assert "name" in first_page
    assert "description" not in first_page, "a value longer than an input holds is left out"


def test_intents_are_the_minimum_unless_plain_messages_are_turns() -> None:
    assert intents_for(BotSection()) == discord.Intents(guilds=True, guild_reactions=True)
    plain = intents_for(BotSection(plain_message_mode=True))
    assert plain.message_content and plain.guild_messages
    assert not (plain.members or plain.presences)


def test_talewright_bot_is_a_subcommand() -> None:
    args = build_parser().parse_args(["bot", "--config", "bot.toml"])
    assert args.config == "bot.toml"
    assert args.func.__module__ == add_bot_command.__module__


def test_the_bot_will_not_start_without_a_token(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TALEWRIGHT_CONFIG", raising=False)
    monkeypatch.setenv("TALEWRIGHT_BOT__TOKEN", "")
    monkeypatch.setenv("TALEWRIGHT_STORAGE__PATH", str(tmp_path / "t.db"))
    args = build_parser().parse_args(["bot"])
    assert args.func(args) == 2
    assert "no Discord bot token" in capsys.readouterr().err
    assert not (tmp_path / "t.db").exists()
