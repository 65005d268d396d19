"""Model requests in flight, in SQLite: one row per request a person waits on."""

from __future__ import annotations

from storage.models import InflightRequest
from storage.sqlite.codec import Row
from storage.sqlite.database import Database
from storage.sqlite.query import fetch_all


class SqliteInflightRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def add(
        self, channel_id: int, application_id: int, token: str, guild_id: int | None = None
    ) -> int:
        values = (channel_id, application_id, token, self._db.now(), guild_id)
        return await self._db.run(
            lambda conn: conn.execute(
                "INSERT INTO inflight (channel_id, application_id, token, started_at, "
                "guild_id) VALUES (?, ?, ?, ?, ?) RETURNING id",
                values,
            ).fetchone()["id"]
        )

    async def remove(self, request_id: int) -> None:
        await self._db.run(
            lambda conn: conn.execute("DELETE FROM inflight WHERE id = ?", (request_id,))
        )

    async def list_all(self) -> list[InflightRequest]:
        async with self._db.read() as conn:
            rows = await fetch_all(conn, "SELECT * FROM inflight ORDER BY id")
        return [_request(row) for row in rows]


def _request(row: Row) -> InflightRequest:
    return InflightRequest(
        id=row["id"],
        channel_id=row["channel_id"],
        application_id=row["application_id"],
        token=row["token"],
        started_at=row["started_at"],
        guild_id=row["guild_id"],
    )
