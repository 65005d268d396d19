"""Storage failures, independent of the database behind them.

Backends translate their driver's exceptions into these at the repository boundary, so the
engine handles one set of errors and a front end can show `str(error)` to a person.
"""

from __future__ import annotations


class StorageError(Exception):
    """Root of storage failures; `str()` is a complete sentence a person can act on."""

    default_message = "The story database could not complete the request."

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.default_message)


class NotFound(StorageError):
    """The record asked for, or one that a new record refers to, does not exist."""

    default_message = "That record does not exist."


class Conflict(StorageError):
    """The write would break a uniqueness rule (a duplicate name, a second active story)."""

    default_message = "That would duplicate something that must be unique."


class LimitReached(Conflict):
    """The write would take an owner past the most records of that kind they may keep."""

    default_message = "That would go over the limit on how many of those you may keep."


class DatabaseLocked(StorageError):
    """Another program held the database for longer than the busy timeout; nothing was saved."""

    default_message = (
        "The story database is busy (locked by another program); nothing was saved. "
        "Try again in a moment."
    )


class DatabaseReadOnly(StorageError):
    """The database file or its folder cannot be written; nothing was saved."""

    default_message = (
        "The story database is read-only; nothing was saved. "
        "Check the permissions of the database file and its folder."
    )


class DatabaseCorrupt(StorageError):
    """The file is not a database, or its contents are damaged."""

    default_message = (
        "The story database file is damaged or is not a database. "
        "Restore it from a backup or point Talewright at a new file."
    )


class SchemaTooNew(StorageError):
    """The database was written by a newer version of the code; opening it could lose data."""

    default_message = (
        "The story database was created by a newer version of Talewright. "
        "Upgrade Talewright or use another database file."
    )
