"""Model requests in flight, in PostgreSQL: one row per request a person waits on."""

from __future__ import annotations

from storage.models import InflightRequest
from storage.postgres.database import Database
from storage.sqlite.inflight import _request


class PostgresInflightRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def add(
        self, channel_id: int, application_id: int, token: str, guild_id: int | None = None
    ) -> int:
        rows = await self._db.write(
            "INSERT INTO inflight (channel_id, application_id, token, started_at, guild_id) "
            "VALUES ($1, $2, $3, $4, $5) RETURNING id",
            channel_id,
            application_id,
            token,
            self._db.now(),
            guild_id,
        )
        return int(rows[0]["id"])

    async def remove(self, request_id: int) -> None:
        await self._db.write_count("DELETE FROM inflight WHERE id = $1", request_id)

    async def list_all(self) -> list[InflightRequest]:
        rows = await self._db.fetch("SELECT * FROM inflight ORDER BY id")
        return [_request(row) for row in rows]
