"""The PostgreSQL implementation of the Storage protocol, and how to open it."""

from __future__ import annotations

import time
from types import TracebackType

import asyncpg

from storage.models import ModelInputs, Turn, TurnScene, UserData
from storage.postgres.characters import PostgresCharacterRepository, read_for_story
from storage.postgres.cooldowns import PostgresCooldownRepository
from storage.postgres.database import DEFAULT_POOL_SIZE, Clock, Database, changed
from storage.postgres.edits import PostgresEditRepository
from storage.postgres.feedback import PostgresFeedbackRepository, record
from storage.postgres.forks import PostgresForkRepository
from storage.postgres.guilds import PostgresGuildRepository
from storage.postgres.inflight import PostgresInflightRepository
from storage.postgres.locks import PostgresStoryLocks
from storage.postgres.lore import PostgresLoreRepository
from storage.postgres.migrate import migrate
from storage.postgres.moderation import PostgresModerationRepository
from storage.postgres.privacy import PostgresPrivacyRepository, delete_user_data, read_user_data
from storage.postgres.reactions import PostgresReactionRepository
from storage.postgres.stories import PostgresStoryRepository, read_participants, read_story
from storage.postgres.styles import PostgresStyleRepository, read_profile
from storage.postgres.turns import (
    PostgresTurnRepository,
    accept_turn,
    read_context,
    read_pending,
    read_slot_of,
)
from storage.postgres.url import connect_options, display_url


class PostgresStorage:
    """Every repository over one PostgreSQL database; close it, or use it with `async with`."""

    def __init__(self, database: Database, story_locks: PostgresStoryLocks) -> None:
        self.database = database
        self.story_locks = story_locks
        self.cooldowns = PostgresCooldownRepository(database)
        self.guilds = PostgresGuildRepository(database)
        self.stories = PostgresStoryRepository(database)
        self.turns = PostgresTurnRepository(database)
        self.characters = PostgresCharacterRepository(database)
        self.styles = PostgresStyleRepository(database)
        self.feedback = PostgresFeedbackRepository(database)
        self.moderation = PostgresModerationRepository(database)
        self.inflight = PostgresInflightRepository(database)
        self.privacy = PostgresPrivacyRepository(database)
        self.lore = PostgresLoreRepository(database)
        self.edits = PostgresEditRepository(database)
        self.forks = PostgresForkRepository(database)
        self.reactions = PostgresReactionRepository(database)

    async def model_inputs(self, story_id: int, user_id: int, context_turns: int) -> ModelInputs:
        async def read(conn: asyncpg.Connection) -> ModelInputs:
            return ModelInputs(
                pending=await read_pending(conn, story_id),
                context=await read_context(conn, story_id, context_turns),
                characters=await read_for_story(conn, story_id),
                style=await read_profile(conn, user_id),
            )

        return await self.database.read(read)

    async def turn_scene(self, turn_id: int) -> TurnScene | None:
        async def read(conn: asyncpg.Connection) -> TurnScene | None:
            alternatives = await read_slot_of(conn, turn_id)
            turn = next((alt for alt in alternatives if alt.id == turn_id), None)
            story = None if turn is None else await read_story(conn, turn.story_id)
            if turn is None or story is None:
                return None
            return TurnScene(turn, alternatives, story, await read_participants(conn, story.id))

        return await self.database.read(read)

    async def keep_turn(self, turn_id: int, by: int) -> Turn:
        now = self.database.now()

        async def keep(conn: asyncpg.Connection) -> Turn:
            kept = await accept_turn(conn, turn_id, by)
            await record(conn, turn_id, by, "keep", now)
            return kept

        return await self.database.run(keep)

    async def forget_user(self, user_id: int) -> dict[str, int]:
        async def forget(conn: asyncpg.Connection) -> dict[str, int]:
            styles = await conn.execute("DELETE FROM style_profiles WHERE user_id = $1", user_id)
            feedback = await conn.execute("DELETE FROM feedback WHERE user_id = $1", user_id)
            return {"style_profiles": changed(styles), "feedback": changed(feedback)}

        return await self.database.run(forget)

    async def export_user(self, user_id: int) -> UserData:
        return await self.database.read(lambda conn: read_user_data(conn, user_id))

    async def delete_user(self, user_id: int) -> dict[str, int]:
        return await self.database.run(lambda conn: delete_user_data(conn, user_id))

    async def close(self) -> None:
        try:
            await self.story_locks.close()
        finally:
            await self.database.close()

    async def __aenter__(self) -> PostgresStorage:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()


async def open_postgres_storage(
    url: str,
    *,
    password: str | None = None,
    password_file: str | None = None,
    pool_size: int = DEFAULT_POOL_SIZE,
    clock: Clock = time.time,
) -> PostgresStorage:
    """Connect to the database at the postgresql:// `url` and bring its schema up to date.

    The password comes from `password`, else `password_file`, else the environment (see
    storage/postgres/url.py). Raises SchemaTooNew for a database from a newer Talewright and
    StorageError when the server cannot be reached or refuses the login.
    """
    options = connect_options(url, password=password, password_file=password_file)
    database = await Database.open(options, display_url(url), pool_size=pool_size, clock=clock)
    try:
        await migrate(database)
    except BaseException:
        await database.close()
        raise
    return PostgresStorage(database, PostgresStoryLocks(options, display_url(url)))
