"""`python tests/e2e/faultbot.py`: the real bot (`python -m bot`) with a kill switch.

Two things are added before `bot.discord.run.main()` runs, nothing else changes:

- A SIGKILL at an exact point of the bot's storage work. Every SQL statement that writes or ends a
  transaction (BEGIN, COMMIT, INSERT, UPDATE, DELETE, REPLACE) is a kill point. A test writes a
  number k to the file named by `TALEWRIGHT_FAULT_ARM` and sends SIGUSR1; the process answers by
  writing `armed` to `<file>.ack`, then kills itself with SIGKILL just before the k-th such
  statement from then on. The kill is the real thing (no cleanup, no flush, no rollback): only
  what SQLite committed before it survives. Each counted statement is also appended to
  `TALEWRIGHT_FAULT_TRACE` (when set), so a test can see where the kill fell.
- `TALEWRIGHT_FAULT_GATEWAY` sets discord.py's DEFAULT_GATEWAY: an AutoShardedBot finds its
  socket through `GET /gateway/bot`, but after an invalid session (op 9) discord.py reconnects to
  DEFAULT_GATEWAY, which is the real Discord unless a test points it at the fake.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import sys
import threading
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
WRITES = ("BEGIN", "COMMIT", "INSERT", "UPDATE", "DELETE", "REPLACE")


class KillSwitch:
    """Counts write statements on every SQLite connection and SIGKILLs at the armed one."""

    def __init__(self, arm_file: Path | None, trace_file: Path | None) -> None:
        self.arm_file = arm_file
        self.trace = trace_file.open("a", buffering=1) if trace_file else None
        self.remaining: int | None = None
        # Reentrant: SIGUSR1's handler runs on the main thread, which may be inside
        # `statement` holding the lock when the signal arrives.
        self.lock = threading.RLock()

    def arm(self, *_: Any) -> None:
        """SIGUSR1: read k from the arm file and acknowledge."""
        assert self.arm_file is not None
        with self.lock:
            self.remaining = int(self.arm_file.read_text().strip())
            # Acknowledged under the lock: a write on another thread may reach the armed
            # statement (and kill the process) as soon as the lock is released.
            Path(f"{self.arm_file}.ack").write_text("armed")

    def statement(self, sql: str) -> None:
        words = sql.lstrip().split(None, 1)
        if not words or words[0].upper() not in WRITES:
            return
        with self.lock:
            if self.trace is not None:
                self.trace.write(" ".join(sql.split())[:120] + "\n")
            if self.remaining is None:
                return
            self.remaining -= 1
            if self.remaining > 0:
                return
        if self.trace is not None:
            self.trace.write("KILLED before the statement above\n")
            self.trace.flush()
        os.kill(os.getpid(), signal.SIGKILL)

    def install(self) -> None:
        connect = sqlite3.connect

        def traced(*args: Any, **kwargs: Any) -> sqlite3.Connection:
            connection = connect(*args, **kwargs)
            connection.set_trace_callback(self.statement)
            return connection

        sqlite3.connect = traced  # type: ignore[assignment]
        if self.arm_file is not None:
            signal.signal(signal.SIGUSR1, self.arm)


def main() -> int:
    sys.path.insert(0, str(ROOT))
    arm = os.environ.get("TALEWRIGHT_FAULT_ARM")
    trace = os.environ.get("TALEWRIGHT_FAULT_TRACE")
    KillSwitch(Path(arm) if arm else None, Path(trace) if trace else None).install()
    gateway = os.environ.get("TALEWRIGHT_FAULT_GATEWAY")
    if gateway:
        import yarl
        from discord.gateway import DiscordWebSocket

        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway)
    from bot.discord.run import main as bot_main

    return bot_main([])


if __name__ == "__main__":
    sys.exit(main())
