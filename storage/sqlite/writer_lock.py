"""One writing process per SQLite file.

SQLite keeps the file itself consistent under several processes, but the bot keeps per-story
locks and a deadline clock in its own memory: a second bot on the same file would let two turns
be written at once and fire every deadline twice. A bot therefore holds an exclusive `flock` on
`<database>.lock` while it runs, and a second one is refused with a message saying what to do.
The kernel drops the lock when the process ends, however it ends, so a crash leaves nothing to
clean up. Read-only tools (backups, exports) do not take it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os

from storage.errors import StorageError


class DatabaseInUse(StorageError):
    """Another process writes this SQLite database; running beside it would split its locks."""

    default_message = "The story database is in use by another Talewright process."


def lock_path(database: str) -> str:
    return f"{database}.lock"


class WriterLock:
    """The exclusive claim of one process on one database file; `release` gives it up."""

    def __init__(self, fd: int, path: str) -> None:
        self._fd: int | None = fd
        self.path = path

    @classmethod
    def acquire(cls, database: str) -> WriterLock:
        """Claim `database` for this process, or raise DatabaseInUse naming the holder."""
        path = lock_path(database)
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise StorageError(
                f"The lock file {path} of the story database cannot be opened: {exc.strerror}."
            ) from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            os.close(fd)
            raise DatabaseInUse(
                f"The story database {database} is already used by another Talewright process"
                f"{holder}. One process at a time may write a SQLite database: stop the other "
                "one, or move to PostgreSQL (storage.url) to run several bot processes."
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        return cls(fd, path)

    def release(self) -> None:
        """Give the claim up; safe to call twice. The file stays (removing it could race a
        process that just opened it)."""
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


def _read_holder(fd: int) -> str:
    """' (pid N)' from the lock file, or '' when it says nothing readable."""
    with contextlib.suppress(OSError, ValueError):
        pid = int(os.pread(fd, 32, 0).decode().strip())
        return f" (pid {pid})"
    return ""
