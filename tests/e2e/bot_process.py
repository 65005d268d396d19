"""The bot as its own process for fault tests: started through `faultbot.py` (the real
`python -m bot` plus a kill switch), pointed at the fake Discord and a generation service over
HTTP (so it starts without importing torch), killed with SIGKILL and started again; and the
SQLite file read directly, as the next process will find it.
"""

# ruff: noqa: ASYNC109, ASYNC110, ASYNC240 -- a test says how long it waits; it polls files
# and a database that another process writes.

from __future__ import annotations

import asyncio
import contextlib
import signal
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot_harness import PYTHON, ROOT, bot_environment, bot_settings
from fakediscord import FakeDiscord

PROCESS_START_S = 180.0
"""A bot process on a loaded machine can take a long time to import and connect."""
FAULTBOT = Path(__file__).resolve().parent / "faultbot.py"


def fault_environment(
    fake: FakeDiscord, db: Path, service_url: str, *, timeout_s: float = 60.0, retries: int = 2
) -> dict[str, str]:
    """`TALEWRIGHT_*` for a bot against `fake` whose generator is the service at `service_url`."""
    settings = bot_settings(fake, db, ROOT / "generators" / "checkpoints" / "default")
    return bot_environment(settings) | {
        "TALEWRIGHT_GENERATOR__MODE": "http",
        "TALEWRIGHT_GENERATOR__URLS": f'["{service_url}"]',
        "TALEWRIGHT_GENERATOR__TIMEOUT_S": str(timeout_s),
        "TALEWRIGHT_GENERATOR__RETRIES": str(retries),
        "TALEWRIGHT_GENERATOR__CANDIDATES": "1",
        "TALEWRIGHT_FAULT_GATEWAY": fake.gateway_url,
    }


@dataclass
class BotProcess:
    """One bot process at a time on `env`; `start` again after `kill` is a restart."""

    fake: FakeDiscord
    env: dict[str, str]
    folder: Path
    process: asyncio.subprocess.Process | None = None
    starts: int = 0
    kills: int = 0

    @property
    def arm_file(self) -> Path:
        return self.folder / "arm"

    @property
    def trace_file(self) -> Path:
        return self.folder / "writes.trace"

    @property
    def log_file(self) -> Path:
        return self.folder / "bot.log"

    async def start(self) -> None:
        """Spawn the bot and wait until it identified anew and got its guilds."""
        assert self.process is None or self.process.returncode is not None
        before = self.fake.identify_count
        env = self.env | {
            "TALEWRIGHT_FAULT_ARM": str(self.arm_file),
            "TALEWRIGHT_FAULT_TRACE": str(self.trace_file),
        }
        with self.log_file.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                PYTHON, str(FAULTBOT), cwd=ROOT, env=env, stdout=log, stderr=log
            )
        self.starts += 1
        process = self.process

        def ready() -> bool:
            if process.returncode is not None:
                raise RuntimeError(f"the bot exited ({process.returncode}):\n{self.log()}")
            return self.fake.identify_count > before and self.fake.gateway.connected

        waiter = asyncio.ensure_future(self.fake.wait_until(ready, PROCESS_START_S, "bot ready"))
        exited = asyncio.ensure_future(process.wait())
        await asyncio.wait({waiter, exited}, return_when=asyncio.FIRST_COMPLETED)
        exited.cancel()
        if not waiter.done():
            waiter.cancel()
            raise RuntimeError(f"the bot exited ({process.returncode}):\n{self.log()}")
        waiter.result()

    async def arm(self, writes: int) -> None:
        """Kill the process just before its `writes`-th write statement from now."""
        assert self.process is not None
        ack = Path(f"{self.arm_file}.ack")
        ack.unlink(missing_ok=True)
        self.arm_file.write_text(str(writes))
        self.process.send_signal(signal.SIGUSR1)
        try:
            async with asyncio.timeout(30):
                while not ack.exists():
                    await asyncio.sleep(0.01)
        except TimeoutError:
            state = (
                "running"
                if self.process.returncode is None
                else f"exited {self.process.returncode}"
            )
            raise AssertionError(f"the bot never armed ({state}):\n{self.log()[-3000:]}") from None

    async def kill(self) -> None:
        """SIGKILL now, if it is still running; wait until the fake saw the socket close."""
        assert self.process is not None
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
        await self.died()

    async def died(self, timeout: float = 60.0) -> bool:
        """Wait for the process to end (killed by itself or by `kill`); True if it was SIGKILL."""
        assert self.process is not None
        await asyncio.wait_for(self.process.wait(), timeout)
        await self.fake.wait_until(
            lambda: not self.fake.gateway.connected, 30, "the fake to see the socket close"
        )
        if self.process.returncode == -signal.SIGKILL:
            self.kills += 1
            return True
        return False

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.returncode is None

    async def stop(self) -> None:
        """SIGTERM (a clean close) at the end of a test."""
        if self.process is None or self.process.returncode is not None:
            return
        self.process.terminate()
        try:
            await asyncio.wait_for(self.process.wait(), 60)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()

    def log(self) -> str:
        return self.log_file.read_text(errors="replace") if self.log_file.exists() else ""

    def killed_at(self) -> str | None:
        """The write statement before which the last armed kill fell, if it fell on one."""
        if not self.trace_file.exists():
            return None
        lines = self.trace_file.read_text().splitlines()
        if lines and lines[-1].startswith("KILLED"):
            return lines[-2] if len(lines) > 1 else ""
        return None


@contextlib.contextmanager
def read_db(db: Path) -> Iterator[sqlite3.Connection]:
    """The database as a new process finds it, read-only (WAL readers do not block writers)."""
    connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    connection.row_factory = sqlite3.Row
    try:
        yield connection
    finally:
        connection.close()


def accepted_turns(db: Path, story_id: int) -> list[sqlite3.Row]:
    with read_db(db) as conn:
        return conn.execute(
            "SELECT * FROM turns WHERE story_id = ? AND state = 'accepted' ORDER BY slot",
            (story_id,),
        ).fetchall()


def turn_row(db: Path, turn_id: int) -> sqlite3.Row | None:
    with read_db(db) as conn:
        return conn.execute("SELECT * FROM turns WHERE id = ?", (turn_id,)).fetchone()


def story_row(db: Path, story_id: int) -> sqlite3.Row:
    with read_db(db) as conn:
        return conn.execute("SELECT * FROM stories WHERE id = ?", (story_id,)).fetchone()


def story_ids(db: Path) -> dict[str, int]:
    """Story id by title."""
    with read_db(db) as conn:
        return {row["title"]: row["id"] for row in conn.execute("SELECT id, title FROM stories")}


def make_due(db: Path, story_id: int) -> None:
    """Move the story's turn deadline into the past, as time passing would (the bot reads
    deadlines from the database on each tick)."""
    connection = sqlite3.connect(db, timeout=30)
    try:
        connection.execute(
            "UPDATE stories SET turn_deadline = 1 WHERE id = ? AND turn_deadline IS NOT NULL",
            (story_id,),
        )
        connection.commit()
    finally:
        connection.close()


def participants(db: Path, story_id: int) -> list[dict[str, Any]]:
    with read_db(db) as conn:
        rows = conn.execute(
            "SELECT * FROM participants WHERE story_id = ? AND left_at IS NULL ORDER BY seat",
            (story_id,),
        ).fetchall()
    return [dict(row) for row in rows]
