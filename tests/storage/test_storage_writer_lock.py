"""One writing process per SQLite file: a second one is refused with a clear message, readers
are not, and the claim ends with the process that held it, however it ends."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from storage.sqlite import open_storage
from storage.sqlite.writer_lock import DatabaseInUse

ROOT = Path(__file__).resolve().parents[2]

HOLDER = textwrap.dedent(
    """
    import asyncio, sys
    from storage.sqlite import open_storage

    async def main():
        storage = await open_storage(sys.argv[1], sole_writer=True)
        print("held", flush=True)
        sys.stdin.readline()
        await storage.close()

    asyncio.run(main())
    """
)


@pytest.fixture
def holder(db_path: Path):
    """Another process that holds the database as its writer until its stdin closes."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(db_path)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stdout.readline().strip() == "held"
    yield process
    if process.poll() is None:
        process.kill()
    process.wait()


async def test_a_second_writer_process_is_refused_and_told_why(
    db_path: Path, holder: subprocess.Popen[str]
) -> None:
    with pytest.raises(DatabaseInUse) as refused:
        await open_storage(db_path, sole_writer=True)
    message = str(refused.value)
    assert str(db_path) in message
    assert f"pid {holder.pid}" in message
    assert "PostgreSQL" in message


async def test_readers_open_the_database_while_a_writer_holds_it(
    db_path: Path, holder: subprocess.Popen[str]
) -> None:
    async with await open_storage(db_path) as storage:
        assert await storage.stories.get(1) is None


async def test_the_claim_ends_with_the_holder_even_when_it_is_killed(
    db_path: Path, holder: subprocess.Popen[str]
) -> None:
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    async with await open_storage(db_path, sole_writer=True) as storage:
        assert storage.writer_lock is not None


async def test_closing_the_storage_lets_the_next_writer_in(db_path: Path) -> None:
    first = await open_storage(db_path, sole_writer=True)
    with pytest.raises(DatabaseInUse):
        await open_storage(db_path, sole_writer=True)
    await first.close()
    async with await open_storage(db_path, sole_writer=True):
        pass


async def test_a_throwaway_database_needs_no_claim() -> None:
    async with await open_storage(":memory:", sole_writer=True) as storage:
        assert storage.writer_lock is None


def test_a_second_bot_on_the_same_file_exits_with_the_message(
    db_path: Path, holder: subprocess.Popen[str], tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "TALEWRIGHT_BOT__TOKEN": "not-a-real-token",
        "TALEWRIGHT_STORAGE__PATH": str(db_path),
        "TALEWRIGHT_GENERATOR__MODE": "http",
    }
    env.pop("TALEWRIGHT_CONFIG", None)
    bot = subprocess.run(
        [sys.executable, "-m", "bot"],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bot.returncode == 2, bot.stderr
    assert "already used by another Talewright process" in bot.stderr
    assert "Traceback" not in bot.stderr


def test_the_terminal_game_refuses_a_database_a_bot_holds(
    db_path: Path,
    holder: subprocess.Popen[str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from bot.cli.main import main

    script = tmp_path / "game.script"
    script.write_text("status\n", encoding="utf-8")
    assert main(["play", "--db", str(db_path), "--script", str(script)]) == 2
    assert "already used by another Talewright process" in capsys.readouterr().err
