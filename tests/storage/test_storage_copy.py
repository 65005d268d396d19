"""`talewright db copy`: every table moves between SQLite and PostgreSQL (and between SQLite
files) with its ids, verified by row counts and checksums; a second run changes nothing; a
destination with other data and a source with another schema are refused with nothing written."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from pg_server import PgServer
from storage_testing import FakeClock, model_turn, query, user_turn

from bot.cli.main import main as cli_main
from storage.backends import open_storage_url, sqlite_url
from storage.copy import CopyRefused, TableHash, copy_database
from storage.copy_tables import PostgresTables, TableInfo
from storage.errors import SchemaTooNew, StorageError
from storage.models import GuildSettings, LoreDraft, ReactionEmoji, StorySettings
from storage.repositories import Storage

GUILD, ANN, BEN = 10, 30, 40


async def fill_every_kind(storage: Storage, clock: FakeClock) -> None:
    """At least one row in every table, through the public repositories."""
    await storage.guilds.upsert(
        GuildSettings(GUILD, "teen", {"violence": ["axe"]}, {}, True, 2.5, link_policy="block")
    )
    story = await storage.stories.create(
        guild_id=GUILD,
        channel_id=20,
        owner_id=ANN,
        settings=StorySettings(title='Gulls \'n "quotes"', genre="mystery"),
    )
    mira = await storage.characters.create(
        GUILD, ANN, "Mira", description="Tall.", tags=["sailor", "ü"], card_json='{"a": 1}'
    )
    await storage.stories.add_participant(story.id, ANN, "Ann", character_id=mira.id)
    await storage.stories.add_participant(story.id, BEN, "Ben")
    await storage.characters.link(story.id, mira.id, ANN)
    first = await storage.turns.add(
        story.id, user_turn("Mira sails.", ANN, character_id=mira.id, character_name="Mira")
    )
    clock.advance(1.25)
    asked = await storage.turns.add(story.id, model_turn("The sea answers.", asked_by=ANN))
    swipe = await storage.turns.add_alternative(
        story.id, asked.slot, model_turn("The sea is silent.", params={"t": 0.7})
    )
    await storage.keep_turn(swipe.id, BEN)
    await storage.edits.edit(first.id, ANN, "Mira sails north.")
    await storage.feedback.add(swipe.id, BEN, "up")
    await storage.reactions.show_turn(900_001, 20, swipe.id)
    await storage.reactions.set_emoji(GUILD, ReactionEmoji("⭐", "💤"))
    await storage.styles.add_vectors(ANN, [[0.5, -0.25, 1e-300]], {"turns": 1})
    await storage.styles.set_preferences(ANN, {"voice": "dry"})
    await storage.privacy.set_user_choice(ANN, True)
    await storage.privacy.set_guild_default(GUILD, False)
    await storage.inflight.add(20, 77, "interaction-token")
    # Text keys whose order depends on the collation: "B" < "a" < "b" byte by byte.
    for scope in ("model", "Model", "start"):
        await storage.cooldowns.claim(scope, ANN, 5.0)
    await storage.lore.set_memory(story.id, "They left at dawn.")
    await storage.lore.create(GUILD, None, LoreDraft("Harbor", ("port",), "Old."), max_entries=9)
    await storage.lore.create(
        GUILD, story.id, LoreDraft("Gull", ("bird",), "Loud.", constant=True), max_entries=9
    )
    reported = await storage.moderation.add(
        GUILD, "report", "report", story_id=story.id, turn_id=first.id, user_id=BEN
    )
    await storage.moderation.resolve(reported.id, ANN, "dismissed", note="fine")
    await storage.moderation.add(GUILD, "block", "user_input", user_id=ANN, verdict={"x": 1})
    await storage.forks.fork(
        story.id, asked.slot, channel_id=21, thread_id=None, owner_id=BEN, owner_name="Ben"
    )
    ended = await storage.stories.create(
        guild_id=GUILD,
        channel_id=22,
        owner_id=BEN,
        settings=StorySettings(title="Done", genre="horror"),
    )
    await storage.stories.set_status(ended.id, "ended")


async def every_table_has_rows(url: str) -> dict[str, int]:
    async with await open_storage_url(url) as storage:
        tables = await query(
            storage,
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
        )
        return {
            name: (await query(storage, f"SELECT count(*) FROM {name}"))[0][0] for (name,) in tables
        }


@pytest.fixture
def lite(tmp_path: Path) -> str:
    return sqlite_url(tmp_path / "source.db")


@pytest.fixture
async def filled(lite: str) -> str:
    clock = FakeClock()
    async with await open_storage_url(lite, clock=clock) as storage:
        await fill_every_kind(storage, clock)
    return lite


@pytest.fixture
def pg_url(pg_server: PgServer) -> str:
    return pg_server.url(pg_server.create_database())


async def test_the_fill_touches_every_table(filled: str) -> None:
    counts = await every_table_has_rows(filled)
    assert counts and all(counts.values()), counts


async def test_sqlite_to_postgres_and_back_keeps_every_row(
    filled: str, pg_url: str, tmp_path: Path
) -> None:
    there = await copy_database(filled, pg_url)
    back_url = sqlite_url(tmp_path / "back.db")
    back = await copy_database(pg_url, back_url)
    assert there.copied and back.copied
    assert there.tables == back.tables
    assert len(there.tables) >= 18 and all(table.rows for table in there.tables.values())
    # The same bytes, file to file: a SQLite-to-SQLite copy of the original agrees too.
    assert (await copy_database(filled, sqlite_url(tmp_path / "twin.db"))).tables == there.tables

    async with await open_storage_url(back_url) as storage:
        turns = await query(storage, "SELECT id, text, state FROM turns ORDER BY id")
        assert ("Mira sails north." in {row[1] for row in turns}) and turns[0][0] == 1
        profile = await storage.styles.get(ANN)
        assert profile is not None and profile.vector == (0.5, -0.25, 1e-300)


async def test_rows_are_read_in_the_same_order_whatever_the_collation(
    filled: str, pg_server: PgServer, tmp_path: Path
) -> None:
    """A server whose databases sort text by language rules (ICU) still reads text keys in
    SQLite's byte order, so the checksums agree."""
    name = f"icu_{tmp_path.name[-8:].lower()}"
    pg_server.psql(
        f"CREATE DATABASE \"{name}\" TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US'"
    )
    icu = pg_server.url(name)
    async with await open_storage_url(icu) as storage:
        ordered = await query(storage, "SELECT s FROM (VALUES ('a'), ('B')) AS v (s) ORDER BY s")
    assert ordered == [("a",), ("B",)]  # the server's own order is not SQLite's
    there = await copy_database(filled, icu)
    back = await copy_database(icu, sqlite_url(tmp_path / "back.db"))
    assert there.tables == back.tables and there.tables["cooldowns"].rows == 3


async def test_postgres_counters_continue_after_the_copied_ids(filled: str, pg_url: str) -> None:
    await copy_database(filled, pg_url)
    async with await open_storage_url(pg_url) as storage:
        (largest,) = (await query(storage, "SELECT max(id) FROM stories"))[0]
        story = await storage.stories.create(
            guild_id=GUILD,
            channel_id=99,
            owner_id=ANN,
            settings=StorySettings(title="After", genre="mystery"),
        )
        turn = await storage.turns.add(story.id, user_turn("New.", ANN))
        (largest_turn,) = (await query(storage, "SELECT max(id) FROM turns WHERE id < ?", turn.id))[
            0
        ]
    assert story.id == largest + 1 and turn.id == largest_turn + 1


async def test_a_second_run_finds_the_data_identical(filled: str, pg_url: str) -> None:
    first = await copy_database(filled, pg_url)
    again = await copy_database(filled, pg_url)
    assert first.copied and not again.copied
    assert again.tables == first.tables


async def test_a_destination_with_other_data_is_refused_unless_replaced(
    filled: str, pg_url: str
) -> None:
    async with await open_storage_url(pg_url) as storage:
        await storage.stories.create(
            guild_id=1,
            channel_id=2,
            owner_id=3,
            settings=StorySettings(title="Theirs", genre="mystery"),
        )
    with pytest.raises(CopyRefused, match=r"already holds other stories: .*stories.*--replace"):
        await copy_database(filled, pg_url)
    async with await open_storage_url(pg_url) as storage:
        assert await query(storage, "SELECT title FROM stories") == [("Theirs",)]

    replaced = await copy_database(filled, pg_url, replace=True)
    assert replaced.copied and replaced.replaced
    assert not (await copy_database(filled, pg_url)).copied


async def test_a_changed_row_is_told_apart_by_its_checksum(filled: str, tmp_path: Path) -> None:
    """Same row counts, one character different: not 'identical'."""
    dest = sqlite_url(tmp_path / "dest.db")
    await copy_database(filled, dest)
    with sqlite3.connect(tmp_path / "dest.db") as conn:
        conn.execute("UPDATE turns SET text = text || '!' WHERE id = 1")
    with pytest.raises(CopyRefused, match=r"turns \(same \d+ rows count, other content\)"):
        await copy_database(filled, dest)


async def test_a_source_with_a_newer_schema_is_refused(filled: str, pg_url: str) -> None:
    path = filled.removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 99")
    with pytest.raises(SchemaTooNew, match="schema version 99, newer than"):
        await copy_database(filled, pg_url)
    async with await open_storage_url(pg_url) as storage:
        assert await query(storage, "SELECT count(*) FROM stories") == [(0,)]


async def test_a_source_with_an_older_schema_is_refused_and_left_as_it_was(
    filled: str, tmp_path: Path
) -> None:
    path = filled.removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 10")
    with pytest.raises(CopyRefused, match="schema version 10, older than"):
        await copy_database(filled, sqlite_url(tmp_path / "dest.db"))
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (10,)


async def test_a_missing_source_and_a_copy_onto_itself_are_refused(
    filled: str, tmp_path: Path
) -> None:
    with pytest.raises(CopyRefused, match="There is no story database at"):
        await copy_database(sqlite_url(tmp_path / "none.db"), sqlite_url(tmp_path / "d.db"))
    with pytest.raises(CopyRefused, match="the same database"):
        await copy_database(filled, filled)
    with pytest.raises(CopyRefused, match="must start with sqlite:///"):
        await copy_database(filled, "mysql://db")


async def test_nul_text_bound_for_postgres_is_refused_by_row(filled: str, pg_url: str) -> None:
    with sqlite3.connect(filled.removeprefix("sqlite:///")) as conn:
        conn.execute("UPDATE turns SET text = ? WHERE id = 2", ("a\x00b",))
    with pytest.raises(StorageError, match=r"turns \(id 2\).*NUL"):
        await copy_database(filled, pg_url)
    async with await open_storage_url(pg_url) as storage:
        assert await query(storage, "SELECT count(*) FROM stories") == [(0,)]


def test_checksums_read_postgres_booleans_as_sqlite_integers() -> None:
    lite, pg = TableHash(), TableHash()
    lite.add([(1, 0, b"\x01", None, 1.5, "t")])
    pg.add([(1, False, memoryview(b"\x01"), None, 1.5, "t")])
    assert lite.summary() == pg.summary()
    other = TableHash()
    other.add([(1, 0, b"\x01", None, 1.5000001, "t")])
    assert other.summary() != lite.summary()


def test_the_command_copies_and_reports(
    filled: str, pg_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli_main(["db", "copy", filled, pg_url, "--batch-rows", "2"]) == 0
    out = capsys.readouterr().out
    assert "turns" in out and "checksums identical" in out
    assert cli_main(["db", "copy", filled, pg_url]) == 0
    assert "already identical" in capsys.readouterr().out

    asyncio.run(_add_a_story(pg_url))
    assert cli_main(["db", "copy", filled, pg_url]) == 1
    assert "--replace" in capsys.readouterr().err


async def _add_a_story(url: str) -> None:
    async with await open_storage_url(url) as storage:
        await storage.stories.create(
            guild_id=1,
            channel_id=2,
            owner_id=3,
            settings=StorySettings(title="Theirs", genre="mystery"),
        )


async def test_a_copy_that_does_not_check_out_is_rolled_back(
    filled: str, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A writer that loses a row: the checksums disagree and nothing stays in the destination."""
    insert = PostgresTables.insert

    async def lossy(self: PostgresTables, table: TableInfo, columns: Any, rows: list[Any]) -> None:
        await insert(self, table, columns, rows[:-1] if table.name == "turns" else rows)

    monkeypatch.setattr(PostgresTables, "insert", lossy)
    with pytest.raises(CopyRefused, match=r"differs from the source: turns \(\d+ rows there"):
        await copy_database(filled, pg_url)
    async with await open_storage_url(pg_url) as storage:
        assert await query(storage, "SELECT count(*) FROM stories") == [(0,)]


def bulk_turns(path: Path, stories: int, turns: int) -> None:
    """`turns` turns across `stories` stories, written straight into a migrated SQLite file."""
    with sqlite3.connect(path) as conn:
        for index in range(stories):
            conn.execute(
                "INSERT INTO stories (guild_id, channel_id, owner_id, title, genre, mode, "
                "timeout_action, reroll_policy, style_matching, status, created_at, updated_at) "
                "VALUES (1, ?, 2, ?, 'mystery', 'free', 'skip', 'owner', 1, 'active', ?, ?)",
                (1000 + index, f"Story {index}", 1.7e9 + index, 1.7e9 + index / 3),
            )
        conn.executemany(
            "INSERT INTO turns (story_id, slot, alt_index, author_kind, author_id, kind, text, "
            "params_json, state, created_at) VALUES (?, ?, 0, 'user', 2, 'narration', ?, "
            "'{\"t\": 0.8}', 'accepted', ?)",
            (
                (1 + n % stories, n // stories, f"Turn {n}: the lantern swung. " * 3, 1.7e9 + n / 7)
                for n in range(turns)
            ),
        )


@pytest.mark.slow
async def test_twenty_thousand_turns_go_there_and_back_in_batches(
    lite: str, pg_url: str, tmp_path: Path
) -> None:
    async with await open_storage_url(lite):
        pass
    bulk_turns(tmp_path / "source.db", stories=40, turns=20_000)
    there = await copy_database(lite, pg_url, batch_rows=1_000)
    back = await copy_database(pg_url, sqlite_url(tmp_path / "back.db"), batch_rows=1_000)
    assert there.tables["turns"].rows == 20_000
    assert back.tables == there.tables
