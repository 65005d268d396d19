"""SQLite storage: `async with await open_storage(path) as storage: ...`."""

from storage.sqlite.backend import SqliteStorage, open_storage

__all__ = ["SqliteStorage", "open_storage"]
