"""Backups: consistent while a writer commits, taken before every migration, and private files."""

from __future__ import annotations

import sqlite3
import stat
import threading
from pathlib import Path

import pytest

from bot.cli.main import main
from storage.errors import StorageError
from storage.models import StorySettings
from storage.sqlite import open_storage
from storage.sqlite.backup import backup, pre_migration_path
from storage.sqlite.database import Database
from storage.sqlite.migrate import bundled_migrations, migrate

# SQLite itself (its files, locks and query plans): PostgreSQL has none of these.
pytestmark = pytest.mark.sqlite_only

LATEST = len(bundled_migrations())


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def names(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


class Writer(threading.Thread):
    """Commits, until told to stop, transactions that each add a story and its one member:
    a copy that caught half of one would hold a story without a member."""

    def __init__(self, path: Path) -> None:
        super().__init__(daemon=True)
        self.path = path
        self.stop = threading.Event()
        self.committed = 0
        self.warmed_up = threading.Event()
        self.failure: BaseException | None = None

    def run(self) -> None:
        conn = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        try:
            while not self.stop.is_set():
                conn.execute("BEGIN IMMEDIATE")
                story = conn.execute(
                    "INSERT INTO stories (guild_id, channel_id, owner_id, title, genre, mode, "
                    "timeout_action, reroll_policy, style_matching, status, created_at, "
                    "updated_at, ended_at) VALUES (1, ?, 2, 't', 'fantasy', 'free', 'skip', "
                    "'owner', 0, 'ended', 0, 0, 1) RETURNING id",
                    (self.committed,),
                ).fetchone()[0]
                conn.execute(
                    "INSERT INTO participants (story_id, user_id, display_name, seat, joined_at) "
                    "VALUES (?, 2, 'Ann', 0, 0)",
                    (story,),
                )
                conn.execute("COMMIT")
                self.committed += 1
                if self.committed == 200:
                    self.warmed_up.set()
        except BaseException as exc:
            self.failure = exc
            self.warmed_up.set()
        finally:
            conn.close()


async def test_backup_while_a_writer_commits_is_consistent_and_openable(tmp_path: Path) -> None:
    db = tmp_path / "talewright.db"
    async with await open_storage(db):
        pass
    writer = Writer(db)
    writer.start()
    try:
        assert writer.warmed_up.wait(60)
        copies = [backup(db, tmp_path / f"copy{n}.db") for n in range(3)]
        still_writing = writer.is_alive()
    finally:
        writer.stop.set()
        writer.join(60)
    assert writer.failure is None
    assert still_writing, "the copies were taken while the writer committed"
    for copy in copies:
        conn = sqlite3.connect(copy)
        try:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            stories = conn.execute("SELECT count(*) FROM stories").fetchone()[0]
            orphans = conn.execute(
                "SELECT count(*) FROM stories WHERE id NOT IN (SELECT story_id FROM participants)"
            ).fetchone()[0]
        finally:
            conn.close()
        assert stories >= 200
        assert orphans == 0
        assert mode(copy) == 0o600
        async with await open_storage(copy) as opened:
            assert (await opened.stories.get(1)) is not None
    assert not [name for name in names(tmp_path) if name.endswith(".partial")]


async def test_a_new_database_and_its_wal_files_are_private(tmp_path: Path) -> None:
    db = tmp_path / "talewright.db"
    async with await open_storage(db) as storage:
        await storage.stories.create(
            guild_id=1,
            channel_id=2,
            owner_id=3,
            settings=StorySettings(title="Secrets", genre="mystery"),
        )
        wal, shm = Path(f"{db}-wal"), Path(f"{db}-shm")
        assert (mode(db), mode(wal), mode(shm)) == (0o600, 0o600, 0o600)


async def test_a_migration_is_preceded_by_a_backup_of_the_old_schema(tmp_path: Path) -> None:
    db = tmp_path / "talewright.db"
    database = await Database.open(db)
    try:
        await migrate(database, bundled_migrations()[: LATEST - 1])
        async with database.transaction() as conn:
            await conn.execute(
                "INSERT INTO style_profiles (user_id, vector, count, updated_at) "
                "VALUES (7, x'', 0, 1)"
            )
    finally:
        await database.close()

    async with await open_storage(db):
        pass

    copy = pre_migration_path(db, LATEST)
    assert copy.name == f"talewright.db.pre-{LATEST:04d}.bak"
    assert mode(copy) == 0o600
    conn = sqlite3.connect(copy)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == LATEST - 1
        assert conn.execute("SELECT user_id FROM style_profiles").fetchall() == [(7,)]
    finally:
        conn.close()


async def test_a_new_or_current_database_needs_no_backup(tmp_path: Path) -> None:
    db = tmp_path / "talewright.db"
    for _ in range(2):
        async with await open_storage(db):
            pass
    assert not [name for name in names(tmp_path) if ".bak" in name]


def test_backup_refuses_what_it_cannot_do_with_a_plain_reason(tmp_path: Path) -> None:
    db = tmp_path / "talewright.db"
    with pytest.raises(StorageError, match="no story database"):
        backup(db, tmp_path / "copy.db")
    sqlite3.connect(db).close()
    with pytest.raises(StorageError, match="another file"):
        backup(db, tmp_path)
    with pytest.raises(StorageError, match="is missing"):
        backup(db, tmp_path / "nowhere" / "copy.db")


async def test_talewright_backup_command(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    db = tmp_path / "talewright.db"
    async with await open_storage(db):
        pass
    folder = tmp_path / "backups"
    folder.mkdir()
    assert main(["backup", str(folder), "--db", str(db)]) == 0
    assert (folder / "talewright.db").is_file()
    assert "backed up" in capsys.readouterr().out
    assert main(["backup", str(folder), "--db", str(tmp_path / "missing.db")]) == 2
    assert "no story database" in capsys.readouterr().err
