"""`talewright play`: command parsing, scripts end to end through `bot.cli.main` with the tiny
trained checkpoint, the transcript, and the exit status."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from engine_testing import FakeClock, FakeGenerator

from bot.cli.main import main
from bot.console import commands as console_commands
from bot.console.commands import Session, user_id_for
from bot.console.console import Console
from bot.console.parse import parse
from bot.console.render import Renderer
from bot.story import EngineOptions, StoryEngine

GROUPS = frozenset({"story", "character", "style", "mod"})


@pytest.fixture(autouse=True)
def quiet_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """One torch thread (the machine is shared), no classifier, no config file from the cwd."""
    monkeypatch.setenv("TALEWRIGHT_GENERATOR__THREADS", "1")
    monkeypatch.setenv("TALEWRIGHT_MODERATION__USE_CLASSIFIER", "false")
    monkeypatch.delenv("TALEWRIGHT_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)


def play(tmp_path: Path, script: str, *extra: str) -> tuple[int, str]:
    path = tmp_path / "session.script"
    path.write_text(script, encoding="utf-8")
    return main(["play", "--db", str(tmp_path / "play.db"), "--script", str(path), *extra]), ""


# --- parsing ------------------------------------------------------------------------------


def test_parse_options_words_and_quotes() -> None:
    command = parse(
        '/story start title:"The \\"Lantern\\"" genre:mystery opening:yes extra "two words"', GROUPS
    )
    assert command.path == ("story", "start")
    assert command.options == {"title": 'The "Lantern"', "genre": "mystery", "opening": "yes"}
    assert command.words == ("extra", "two words")
    assert not command.unclosed_quote


def test_parse_keeps_the_raw_rest_for_free_text() -> None:
    command = parse('/story write  She said "stop: now   and   wait', GROUPS)
    assert command.path == ("story", "write")
    assert command.rest == 'She said "stop: now   and   wait'
    assert command.unclosed_quote


def test_parse_single_word_commands() -> None:
    assert parse("/as Old Tom", GROUPS).rest == "Old Tom"
    assert parse("/HELP", GROUPS).path == ("help",)
    assert parse("/story", GROUPS).path == ("story",)


def test_user_ids_are_stable_per_name() -> None:
    assert user_id_for("Ann") == user_id_for(" ann ") != user_id_for("Ben")
    assert user_id_for("Ann") > 0


# --- the console over a fake generator ------------------------------------------------------


async def console_over(storage, moderator, clock: FakeClock) -> tuple[Console, io.StringIO]:
    engine = StoryEngine(storage, FakeGenerator(), moderator, EngineOptions(), clock=clock)
    out = io.StringIO()
    return Console(Session(engine, "Ann"), Renderer(80, clock), out), out


async def test_round_robin_at_one_keyboard_and_deadlines_before_commands(
    storage, moderator, clock: FakeClock
) -> None:
    console, out = await console_over(storage, moderator, clock)
    status = await console.run_script(
        [
            '/story start title:"Turns" genre:mystery mode:round_robin timeout:1m',
            "/as Ben",
            "/story join",
            "I go first!",
            "/as Ann",
            "Ann begins.",
        ]
    )
    transcript = out.getvalue()
    assert status == 0
    assert "error: It's Ann's turn; wait for them to write theirs." in transcript
    assert "Ann> Ann begins.\n  #1 · Ann\n    Ann begins.\nIt's Ben's turn (until" in transcript
    clock.advance(61)
    out.truncate(0)
    out.seek(0)
    await console.execute("/story status")
    lines = out.getvalue().splitlines()
    assert lines[0] == "[timer] Ben's time ran out, so their turn was skipped. It's Ann's turn."
    assert lines[-1].startswith("It's Ann's turn (until ")


async def test_user_errors_are_printed_and_the_script_goes_on(
    storage, moderator, clock: FakeClock
) -> None:
    console, out = await console_over(storage, moderator, clock)
    status = await console.run_script(
        [
            "# a comment is echoed",
            "/story keep",
            "/story start titel:x genre:mystery",
            '/story start title:"Unclosed genre:mystery',
            "/story frobnicate",
            "/nonsense",
            '/story start title:"Fine" genre:mystery',
            '/story write text:"With options" character:Nobody',
            "Note: colons in a plain turn are text.",
            "/quit",
            "/story show",
        ]
    )
    transcript = out.getvalue()
    assert status == 0
    assert "# a comment is echoed" in transcript
    assert "error: There is no story here yet. Start one with /story start." in transcript
    assert "error: /story start does not take titel; it takes genre, mode, mood" in transcript
    assert 'error: A quote is not closed; end the quoted value with ".' in transcript
    assert "error: Unknown command /story frobnicate; /story takes cast, continue" in transcript
    assert "error: Unknown command /nonsense; type /help for the list." in transcript
    assert 'error: There is no character called "Nobody" here' in transcript
    assert "    Note: colons in a plain turn are text." in transcript
    assert "/story show" not in transcript


async def test_a_crashing_command_sets_the_exit_status(
    storage, moderator, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def crash(session: Session, command: object) -> None:
        raise RuntimeError("boom")

    spec = console_commands.COMMANDS[("story", "list")]
    monkeypatch.setitem(
        console_commands.COMMANDS, ("story", "list"), type(spec)(spec.path, "", "", crash)
    )
    console, out = await console_over(storage, moderator, clock)
    status = await console.run_script(["/story list", "/help"])
    assert status == 1
    assert "internal error (RuntimeError: boom); this is a bug." in out.getvalue()
    assert "/story" in out.getvalue().split("/help", 1)[1]


# --- through bot.cli.main with the tiny trained model -------------------------------------

SESSION = """\
# two writers and the model
/as Ann
/story start title:"The Lantern" genre:children mood:calm premise:"A cat finds a door" opening:yes
/story keep
Once upon a time, a cat named Tom found a door.
/as Ben
/story join
Tom opened the door and saw the sea.
/story continue
/as Ann
/story reroll
/story swipe prev
/character create name:"Pip" description:"a grey seal" personality:"curious" speech:"short"
/story say Pip
/story twist
/story poem the sea
/story keep
/story recap
/story show
/story export story.md
/character export Pip pip.png
/character delete Pip
/character import pip.png
/character list
/story settings reroll:vote
/story end
/story list
"""


def test_a_script_end_to_end(
    tmp_path: Path, tiny_checkpoint: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _ = play(tmp_path, SESSION, "--checkpoint", str(tiny_checkpoint))
    transcript = capsys.readouterr().out
    assert status == 0, transcript
    assert "error:" not in transcript and "internal error" not in transcript
    for line in SESSION.splitlines():
        if line.startswith("/"):
            assert f"> {line}\n" in transcript
    assert "# two writers and the model\n" in transcript
    assert 'Started story #1 "The Lantern" (Children, calm, free for all), owned by Ann.' in (
        transcript
    )
    assert "Ben> Tom opened the door and saw the sea.\n  #3 · Ben\n" in transcript
    assert "· alternative 2/2" in transcript and "· alternative 1/2" in transcript
    assert "as Pip, asked by Ann (not kept yet)" in transcript
    assert 'Recap of "The Lantern"' in transcript
    assert "Ben joined" in transcript and '"The Lantern" is ended.' in transcript
    assert "#1 The Lantern — Children, ended, owned by Ann" in transcript
    markdown = (tmp_path / "story.md").read_text(encoding="utf-8")
    assert markdown.startswith("# The Lantern\n") and "— *Ben*" in markdown
    assert "kept by Ann*" in markdown
    card = (tmp_path / "pip.png").read_bytes()
    assert card.startswith(b"\x89PNG")
    assert "Pip (character #2, imported card)" in transcript


def test_the_demo_runs(tiny_checkpoint: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["play", "--demo", "--checkpoint", str(tiny_checkpoint)])
    transcript = capsys.readouterr().out
    assert status == 0, transcript
    assert "error:" not in transcript
    assert "Ben> /story join" in transcript and "Ann> /story export" in transcript
    assert "# The Lantern at Gull Point" in transcript


def test_a_missing_model_says_how_to_get_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "no-model"
    script = '/story start title:"Hand-made" genre:mystery\nI write by hand.\n/story continue\n'
    status, _ = play(tmp_path, script, "--checkpoint", str(missing))
    transcript = capsys.readouterr().out
    assert status == 0
    hint = (
        f"no model at {missing}; train one with `talewright train lstm --config "
        "configs/lstm_default.toml` or pass --checkpoint"
    )
    assert f"note: {hint}." in transcript
    assert "error: The story generator is not reachable right now; your text is safe." in (
        transcript
    )
    assert "    I write by hand." in transcript


def test_a_corrupt_database_stops_with_a_clear_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.db"
    broken.write_bytes(b"not a database " * 500)
    script = tmp_path / "s.script"
    script.write_text("/story list\n", encoding="utf-8")
    status = main(["play", "--db", str(broken), "--script", str(script)])
    captured = capsys.readouterr()
    assert status == 2
    assert "damaged or is not a database" in captured.err


def test_bad_arguments(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["play", "--script", str(tmp_path / "missing.script")]) == 2
    assert "cannot read" in capsys.readouterr().err
    assert main(["play", "--config", str(tmp_path / "missing.toml")]) == 2
    assert "config file not found" in capsys.readouterr().err


def test_help_lists_every_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _ = play(tmp_path, "/help\n", "--checkpoint", str(tmp_path))
    transcript = capsys.readouterr().out
    assert status == 0
    for path in console_commands.COMMANDS:
        assert f"/{path[0]}" in transcript
    assert "/as <name>" in transcript and "swipe next|prev" in transcript
    assert "Genres: children, fairy_tales, fantasy_adventure" in transcript


def test_character_card_files_from_the_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    card = {"spec": "chara_card_v2", "spec_version": "2.0", "data": {"name": "Mira", "x": 1}}
    (tmp_path / "mira.json").write_text(json.dumps(card), encoding="utf-8")
    script = (
        "/character import mira.json\n/character export Mira out.json\n"
        "/character import nope.json\n"
    )
    status, _ = play(tmp_path, script, "--checkpoint", str(tmp_path))
    transcript = capsys.readouterr().out
    assert status == 0
    assert json.loads((tmp_path / "out.json").read_text())["data"]["x"] == 1
    assert "error: Cannot read nope.json" in transcript


def test_models_are_picked_by_name_or_folder(
    tmp_path: Path, tiny_checkpoint: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from generators.paths import (
        LSTM_CHECKPOINT,
        TRANSFORMER_CHECKPOINT,
        bundled_checkpoints,
        model_folder,
    )

    assert bundled_checkpoints() == [TRANSFORMER_CHECKPOINT, LSTM_CHECKPOINT]
    assert model_folder("lstm") == LSTM_CHECKPOINT
    assert model_folder("transformer") == TRANSFORMER_CHECKPOINT
    assert model_folder(str(tiny_checkpoint)) == tiny_checkpoint
    script = '/story start title:"Named" genre:children\nI begin.\n/story continue\n'
    status, _ = play(tmp_path, script, "--model", str(tiny_checkpoint))
    transcript = capsys.readouterr().out
    assert status == 0 and "error:" not in transcript, transcript
    assert "asked by" in transcript and "(not kept yet)" in transcript, transcript
