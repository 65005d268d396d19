"""`talewright export-feedback OUT.jsonl`: one JSON line per turn people reacted to, with the
kept turns before it and its up/down counts; a missing database is a clear refusal."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from bot.cli.main import main
from storage.models import StorySettings, TurnDraft
from storage.sqlite import open_storage


def _turn(text: str) -> TurnDraft:
    return TurnDraft(author_kind="user", text=text, author_id=30, author_name="Ann")


async def _reacted_story(db: Path) -> list[int]:
    async with await open_storage(db) as storage:
        story = await storage.stories.create(
            guild_id=10,
            channel_id=20,
            owner_id=30,
            settings=StorySettings(title="Tide", genre="mystery"),
        )
        ids = [(await storage.turns.add(story.id, _turn(t))).id for t in ("A.", "B.", "C.")]
        await storage.feedback.add(ids[2], 1, "up")
        await storage.feedback.add(ids[2], 2, "up")
        await storage.feedback.add(ids[2], 3, "down")
        await storage.feedback.add(ids[0], 1, "keep")
    return ids


async def test_export_writes_one_line_per_reacted_turn(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    ids = await _reacted_story(db)
    out = tmp_path / "feedback.jsonl"
    code = await _run(["export-feedback", str(out), "--db", str(db), "--context-turns", "1"])
    assert code == 0
    [line] = out.read_text(encoding="utf-8").splitlines()
    row = json.loads(line)
    assert row["turn_id"] == ids[2] and row["text"] == "C." and row["context"] == ["B."]
    assert (row["up"], row["down"], row["genre"], row["state"]) == (2, 1, "mystery", "accepted")


async def test_a_missing_database_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "feedback.jsonl"
    code = await _run(["export-feedback", str(out), "--db", str(tmp_path / "none.db")])
    assert code == 2 and "no story database" in capsys.readouterr().err
    assert not out.exists()


async def _run(argv: list[str]) -> int:
    """`main` runs its own event loop, so it runs on a thread beside the test's."""
    return await asyncio.to_thread(main, argv)
