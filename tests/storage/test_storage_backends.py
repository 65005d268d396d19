"""open_storage_url opens the backend its URL names, and the storage.url setting chooses it."""

from __future__ import annotations

from pathlib import Path

import pytest
from pg_server import PgServer

from bot.settings import Settings, SettingsError, load_settings
from storage.backends import open_storage_url, shown_url, sqlite_path, sqlite_url
from storage.errors import StorageError
from storage.models import StorySettings
from storage.postgres import PostgresStorage
from storage.sqlite import SqliteStorage


async def test_a_sqlite_url_opens_that_file(tmp_path: Path) -> None:
    path = tmp_path / "stories.db"
    async with await open_storage_url(sqlite_url(path)) as storage:
        assert isinstance(storage, SqliteStorage)
        await storage.stories.create(
            guild_id=1, channel_id=2, owner_id=3, settings=StorySettings(title="T", genre="g")
        )
    assert path.is_file()


async def test_a_postgresql_url_opens_the_server(pg_server: PgServer) -> None:
    url = pg_server.url(pg_server.create_database())
    async with await open_storage_url(url, pool_size=2) as storage:
        assert isinstance(storage, PostgresStorage)
        assert await storage.stories.list_for_guild(1) == []


@pytest.mark.parametrize("url", ["mysql://db/stories", "sqlite:///", "talewright.db"])
async def test_an_unknown_url_is_refused_with_the_ones_there_are(url: str) -> None:
    with pytest.raises(StorageError, match=r"cannot be used: .*sqlite:///"):
        await open_storage_url(url)


def test_sqlite_urls_name_relative_and_absolute_files() -> None:
    assert sqlite_path("sqlite:///talewright.db") == "talewright.db"
    assert sqlite_path("sqlite:////srv/talewright.db") == "/srv/talewright.db"
    assert sqlite_path(sqlite_url("/srv/t.db")) == "/srv/t.db"
    assert sqlite_path("postgresql://db/stories") is None
    assert shown_url("sqlite:////srv/t.db") == "/srv/t.db"
    assert shown_url("postgresql://ann:pw@db/stories") == "postgresql://ann:***@db/stories"


def test_the_setting_defaults_to_the_sqlite_path_and_takes_a_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TALEWRIGHT_STORAGE__PATH", str(tmp_path / "t.db"))
    assert Settings().storage.storage_url() == sqlite_url(tmp_path / "t.db")
    monkeypatch.setenv("TALEWRIGHT_STORAGE__URL", "postgresql://bot@db:5432/talewright")
    assert Settings().storage.storage_url() == "postgresql://bot@db:5432/talewright"


def test_a_bad_storage_url_setting_fails_at_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[storage]\nurl = "mysql://db/stories"\n')
    with pytest.raises(SettingsError, match="postgresql://"):
        load_settings(config)
