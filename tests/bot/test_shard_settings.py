"""Which shards a bot process runs: `--shards 0,1 --shard-count 4`, `[bot] shard_ids` or
`TALEWRIGHT_BOT__SHARD_IDS`; shards that cannot fit are refused at start with a line saying
why; the process owning shard 0 alone registers the commands."""

from __future__ import annotations

from pathlib import Path

import pytest

import bot.discord.run as bot_main
from bot.cli.main import main
from bot.discord.client import StoryBot, syncs_commands
from bot.settings import BotSection, Settings, SettingsError, load_settings
from bot.story import StoryEngine


@pytest.fixture(autouse=True)
def _no_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TALEWRIGHT_CONFIG", raising=False)


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[Settings]:
    """The settings the bot would have run with (it is not started)."""
    runs: list[Settings] = []

    async def run_bot(settings: Settings) -> None:
        runs.append(settings)

    monkeypatch.setattr(bot_main, "run_bot", run_bot)
    return runs


@pytest.mark.parametrize(
    ("text", "ids"), [("0,1", [0, 1]), ("4-7", [4, 5, 6, 7]), ("0, 2-3", [0, 2, 3]), ("[1]", [1])]
)
def test_shard_ids_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, text: str, ids: list[int]
) -> None:
    monkeypatch.setenv("TALEWRIGHT_BOT__SHARD_IDS", text)
    monkeypatch.setenv("TALEWRIGHT_BOT__SHARD_COUNT", "8")
    assert load_settings().bot.shard_ids == ids


def test_shard_ids_from_the_config_file(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[bot]\nshard_ids = [2, 3]\nshard_count = 4\n", encoding="utf-8")
    section = load_settings(config).bot
    assert (section.shard_ids, section.shard_count) == ([2, 3], 4)


@pytest.mark.parametrize(
    ("bot", "says"),
    [
        ({"shard_ids": "0,1"}, "shard_ids needs shard_count"),
        ({"shard_ids": "0,4", "shard_count": 4}, "shard_ids [4] are outside 0..3"),
        ({"shard_ids": "1,1", "shard_count": 4}, "names a shard twice"),
        ({"shard_ids": "one", "shard_count": 4}, "'one' is not a shard number"),
        ({"shard_ids": "3-1", "shard_count": 4}, "runs backwards"),
        ({"shard_ids": "", "shard_count": 4}, "shard_ids is empty"),
    ],
)
def test_shards_that_cannot_fit_are_refused(bot: dict[str, object], says: str) -> None:
    with pytest.raises(SettingsError, match=says.replace("[", r"\[").replace("]", r"\]")):
        load_settings(bot=bot)


def test_the_command_line_chooses_the_shards(
    monkeypatch: pytest.MonkeyPatch, started: list[Settings]
) -> None:
    monkeypatch.setenv("TALEWRIGHT_BOT__SHARD_IDS", "3")
    monkeypatch.setenv("TALEWRIGHT_BOT__RECAP_TURNS", "5")
    assert main(["bot", "--shards", "0,1", "--shard-count", "4"]) == 0
    assert started[0].bot.shard_ids == [0, 1]
    assert started[0].bot.shard_count == 4
    assert started[0].bot.recap_turns == 5


def test_python_dash_m_bot_takes_the_same_options(started: list[Settings]) -> None:
    assert bot_main.main(["--shards", "2-3", "--shard-count", "4"]) == 0
    assert started[0].bot.shard_ids == [2, 3]


def test_a_bad_shard_option_is_one_line(
    started: list[Settings], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["bot", "--shards", "0,9", "--shard-count", "4"]) == 2
    err = capsys.readouterr().err
    assert "shard_ids [9] are outside 0..3" in err and "Traceback" not in err
    assert started == []


async def test_the_bot_runs_only_its_own_shards(engine: StoryEngine) -> None:
    client = StoryBot(engine, BotSection(shard_ids=[2, 3], shard_count=4))
    assert (client.shard_ids, client.shard_count) == ([2, 3], 4)


def test_only_the_process_with_shard_zero_registers_commands() -> None:
    assert syncs_commands(BotSection())
    assert syncs_commands(BotSection(shard_ids=[0, 1], shard_count=4))
    assert not syncs_commands(BotSection(shard_ids=[2, 3], shard_count=4))
