"""PostgreSQL storage: `async with await open_postgres_storage(url) as storage: ...`."""

from storage.postgres.backend import PostgresStorage, open_postgres_storage

__all__ = ["PostgresStorage", "open_postgres_storage"]
