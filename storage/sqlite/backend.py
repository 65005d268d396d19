"""The SQLite implementation of the Storage protocol, and how to open it."""

from __future__ import annotations

import os
import sqlite3
import time
from types import TracebackType

from storage.locks import InProcessStoryLocks
from storage.models import ModelInputs, Turn, TurnScene, UserData
from storage.sqlite.characters import SqliteCharacterRepository, read_for_story
from storage.sqlite.cooldowns import SqliteCooldownRepository
from storage.sqlite.database import DEFAULT_BUSY_TIMEOUT_S, Clock, Database
from storage.sqlite.edits import SqliteEditRepository
from storage.sqlite.feedback import SqliteFeedbackRepository, record
from storage.sqlite.forks import SqliteForkRepository
from storage.sqlite.guilds import SqliteGuildRepository
from storage.sqlite.inflight import SqliteInflightRepository
from storage.sqlite.lore import SqliteLoreRepository
from storage.sqlite.migrate import migrate
from storage.sqlite.moderation import SqliteModerationRepository
from storage.sqlite.privacy import SqlitePrivacyRepository, delete_user_data, read_user_data
from storage.sqlite.query import execute
from storage.sqlite.reactions import SqliteReactionRepository
from storage.sqlite.stories import SqliteStoryRepository, read_participants, read_story
from storage.sqlite.styles import SqliteStyleRepository, read_profile
from storage.sqlite.turns import (
    ContextCache,
    SqliteTurnRepository,
    accept_turn,
    read_pending,
    read_slot_of,
)
from storage.sqlite.writer_lock import WriterLock


class SqliteStorage:
    """Every repository over one SQLite database; close it, or use it with `async with`."""

    def __init__(self, database: Database, writer_lock: WriterLock | None = None) -> None:
        self.database = database
        self.writer_lock = writer_lock
        self.guilds = SqliteGuildRepository(database)
        self.stories = SqliteStoryRepository(database)
        self.turns = SqliteTurnRepository(database)
        self.characters = SqliteCharacterRepository(database)
        self.styles = SqliteStyleRepository(database)
        self.feedback = SqliteFeedbackRepository(database)
        self.moderation = SqliteModerationRepository(database)
        self.inflight = SqliteInflightRepository(database)
        self.privacy = SqlitePrivacyRepository(database)
        self.lore = SqliteLoreRepository(database)
        self.edits = SqliteEditRepository(database, self.turns)
        self.forks = SqliteForkRepository(database)
        self.reactions = SqliteReactionRepository(database)
        # One writing process per file (writer_lock.py), so a lock in this process is enough.
        self.story_locks = InProcessStoryLocks()
        self.cooldowns = SqliteCooldownRepository(database)

    async def model_inputs(self, story_id: int, user_id: int, context_turns: int) -> ModelInputs:
        def read(conn: sqlite3.Connection) -> ModelInputs:
            return ModelInputs(
                pending=read_pending(conn, story_id),
                context=self.turns.context_cache.read(conn, story_id, context_turns),
                characters=read_for_story(conn, story_id),
                style=read_profile(conn, user_id),
            )

        # One round trip instead of four, which is most of a model turn's time in storage.
        return await self.database.run_in_transaction(read, write=False)

    async def turn_scene(self, turn_id: int) -> TurnScene | None:
        def read(conn: sqlite3.Connection) -> TurnScene | None:
            alternatives = read_slot_of(conn, turn_id)
            turn = next((alt for alt in alternatives if alt.id == turn_id), None)
            story = None if turn is None else read_story(conn, turn.story_id)
            if turn is None or story is None:
                return None
            return TurnScene(turn, alternatives, story, read_participants(conn, story.id))

        return await self.database.run_in_transaction(read, write=False)

    async def keep_turn(self, turn_id: int, by: int) -> Turn:
        now = self.database.now()

        def keep(conn: sqlite3.Connection) -> Turn:
            kept = accept_turn(conn, turn_id, by)
            record(conn, turn_id, by, "keep", now)
            return kept

        return await self.database.run_in_transaction(keep)

    async def forget_user(self, user_id: int) -> dict[str, int]:
        async with self.database.transaction() as conn:
            styles = await execute(conn, "DELETE FROM style_profiles WHERE user_id = ?", (user_id,))
            feedback = await execute(conn, "DELETE FROM feedback WHERE user_id = ?", (user_id,))
        return {"style_profiles": styles, "feedback": feedback}

    async def export_user(self, user_id: int) -> UserData:
        return await self.database.run_in_transaction(
            lambda conn: read_user_data(conn, user_id), write=False
        )

    async def delete_user(self, user_id: int) -> dict[str, int]:
        def delete(conn: sqlite3.Connection) -> dict[str, int]:
            # Bylines change, which the context cache assumes they never do: start a new one.
            self.turns.context_cache = ContextCache()
            return delete_user_data(conn, user_id)

        return await self.database.run_in_transaction(delete)

    async def close(self) -> None:
        try:
            await self.database.close()
        finally:
            if self.writer_lock is not None:
                self.writer_lock.release()

    async def __aenter__(self) -> SqliteStorage:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()


async def open_storage(
    path: str | os.PathLike[str],
    *,
    busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S,
    clock: Clock = time.time,
    sole_writer: bool = False,
) -> SqliteStorage:
    """Open (creating if needed) the database at `path` and bring its schema up to date.

    `path` may be ':memory:' for a throwaway database. Raises SchemaTooNew for a database from
    a newer Talewright, and DatabaseLocked, DatabaseReadOnly or DatabaseCorrupt when the file
    cannot be used. `sole_writer` (the bot, the terminal game) claims the file for this process
    until the storage is closed, and raises DatabaseInUse when another process holds it
    (storage/sqlite/writer_lock.py).
    """
    location = os.fspath(path)
    database = await Database.open(location, busy_timeout_s=busy_timeout_s, clock=clock)
    claim = None
    try:
        if sole_writer and location not in ("", ":memory:") and not location.startswith("file:"):
            claim = WriterLock.acquire(location)
        await migrate(database)
    except BaseException:
        await database.close()
        if claim is not None:
            claim.release()
        raise
    return SqliteStorage(database, claim)
