"""How fast storage serves turns once a database holds many: SQLite beside PostgreSQL.

For each backend, fills a new database with 100,000 turns across stories (bulk, in one
transaction), then times what `StoryEngine.ai_turn` loads before generating (the last 50
accepted turns, the story's characters and the requesting user's style profile) and how many
turns per second `turns.add` stores one at a time, each in its own committed transaction. On
PostgreSQL it also times two OS processes adding turns to different stories at once against one
process alone. `--copy` times `talewright db copy` of the filled SQLite database to PostgreSQL
and back, and checks the checksums agree.

Without `--url` the PostgreSQL figures come from a throwaway server started from the system's
`initdb` (tests/storage/pg_server.py: fsync off, as SQLite's WAL with synchronous=NORMAL does
not sync each commit either); `--url` names an empty database the benchmark may fill.

    .venv/bin/python bench/storage_load.py [--turns 100000] [--backend sqlite,postgres] [--copy]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from storage.backends import open_storage_url, sqlite_url
from storage.copy import copy_database, fill_order, write_transaction
from storage.models import StorySettings, TurnDraft
from storage.repositories import Storage

SCRIPT = Path(__file__).resolve()
ROOT = SCRIPT.parent.parent
GUILD = 1
VECTOR_WIDTH = 64
PARAMS = '{"temperature":0.8}'
WORDS = ("lantern", "storm", "door", "whispered", "old", "map", "river", "night", "silver")
WORDS += ("shadow", "wolf", "crown", "ship", "garden", "quiet", "letter", "tower", "stranger")
TURN_COLUMNS = (
    "story_id",
    "slot",
    "alt_index",
    "author_kind",
    "author_id",
    "author_name",
    "accepted_by",
    "kind",
    "text",
    "model_id",
    "params_json",
    "state",
    "created_at",
)


@dataclass
class Figures:
    backend: str
    fill_s: float
    loads: list[float]
    insert_rate: float
    two_processes: tuple[float, float] | None = None
    """PostgreSQL: turns/s of one process alone, and of two together."""


async def fill(storage: Storage, turns: int, stories: int, rng: random.Random) -> dict[int, int]:
    """Stories with characters, owners with style profiles, and `turns` turns in bulk.

    Returns each story's owner, whose style profile a load reads.
    """
    owners: dict[int, int] = {}
    for index in range(stories):
        owner = 1000 + index
        story = await storage.stories.create(
            guild_id=GUILD,
            channel_id=10_000 + index,
            owner_id=owner,
            settings=StorySettings(title=f"Story {index}", genre="fantasy_adventure"),
        )
        owners[story.id] = owner
        for number in range(3):
            character = await storage.characters.create(
                GUILD, owner, f"Hero {index}-{number}", description="Brave. " * 20
            )
            await storage.characters.link(story.id, character.id, added_by=owner)
        vectors = [[rng.gauss(0.0, 1.0) for _ in range(VECTOR_WIDTH)] for _ in range(20)]
        await storage.styles.add_vectors(owner, vectors, {"avg_sentence_len": 14.0})

    now = time.time()
    per_story = turns // stories
    async with write_transaction(storage) as writer:
        table = (await writer.tables())["turns"]
        for story_id in owners:
            rows = []
            slot = 0
            while len(rows) < per_story:
                # One slot in five was rerolled once: a discarded candidate beside the kept one.
                alternatives = 2 if slot % 5 == 4 and per_story - len(rows) >= 2 else 1
                for alt in range(alternatives):
                    state = "accepted" if alt == alternatives - 1 else "discarded"
                    text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(12, 60)))
                    written = ("model", 1000, "Ann", 1000, "narration", text, "lstm-v1")
                    rows.append((story_id, slot, alt, *written, PARAMS, state, now))
                slot += 1
            await writer.insert(table, TURN_COLUMNS, rows)
    return owners


async def time_loads(
    storage: Storage, owners: dict[int, int], loads: int, rng: random.Random
) -> list[float]:
    """Seconds per load of one AI turn's context, for random stories."""
    story_ids = list(owners)
    timings = []
    for _ in range(loads):
        story_id = rng.choice(story_ids)
        started = time.perf_counter()
        recent = await storage.turns.recent_accepted(story_id, limit=50)
        characters = await storage.characters.list_for_story(story_id)
        profile = await storage.styles.get(owners[story_id])
        timings.append(time.perf_counter() - started)
        assert len(recent) == 50 and len(characters) == 3 and profile is not None
    return timings


async def add_turns(storage: Storage, count: int, channel_id: int) -> tuple[float, float]:
    """Add `count` turns to a new story, one committed transaction each; (start, end) times."""
    story = await storage.stories.create(
        guild_id=GUILD,
        channel_id=channel_id,
        owner_id=1,
        settings=StorySettings(title="Insert rate", genre="mystery"),
    )
    started = time.time()
    for index in range(count):
        await storage.turns.add(
            story.id, TurnDraft(author_kind="user", text=f"Turn {index}.", author_id=1)
        )
    return started, time.time()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def measure(url: str, backend: str, args: argparse.Namespace) -> Figures:
    rng = random.Random(args.seed)
    async with await open_storage_url(url, pool_size=4) as storage:
        started = time.perf_counter()
        owners = await fill(storage, args.turns, args.stories, rng)
        fill_s = time.perf_counter() - started
        await time_loads(storage, owners, 20, rng)  # warm the caches
        timings = await time_loads(storage, owners, args.loads, rng)
        begin, end = await add_turns(storage, args.inserts, channel_id=1)
    return Figures(backend, fill_s, timings, args.inserts / (end - begin))


async def processes_together(url: str, count: int, inserts: int) -> float:
    """Turns/s of `count` OS processes each adding `inserts` turns to its own story at once:
    every process connects and makes its story, then all start on one signal."""
    workers = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            str(SCRIPT),
            "--worker",
            url,
            "--inserts",
            str(inserts),
            "--channel",
            str(2 + index),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        for index in range(count)
    ]
    for worker in workers:
        assert worker.stdout is not None
        line = await worker.stdout.readline()
        if line.strip() != b"ready":
            raise RuntimeError(f"a worker failed to start: {line!r}")
    for worker in workers:
        assert worker.stdin is not None
        worker.stdin.write(b"go\n")
        await worker.stdin.drain()
    spans = []
    for worker in workers:
        out, _ = await worker.communicate()
        if worker.returncode != 0:
            raise RuntimeError(f"a worker failed ({worker.returncode})")
        begin, end = (float(value) for value in out.split())
        spans.append((begin, end))
    elapsed = max(end for _, end in spans) - min(begin for begin, _ in spans)
    return count * inserts / elapsed


async def worker(url: str, inserts: int, channel_id: int) -> None:
    """One of `processes_together`'s processes."""
    async with await open_storage_url(url, pool_size=1) as storage:
        story = await storage.stories.create(
            guild_id=GUILD,
            channel_id=channel_id,
            owner_id=1,
            settings=StorySettings(title="Worker", genre="mystery"),
        )
        print("ready", flush=True)
        await asyncio.to_thread(sys.stdin.readline)
        started = time.time()
        for index in range(inserts):
            await storage.turns.add(
                story.id, TurnDraft(author_kind="user", text=f"Turn {index}.", author_id=1)
            )
        print(started, time.time(), flush=True)


@contextlib.asynccontextmanager
async def postgres_databases(url: str | None) -> AsyncIterator[Callable[[], Awaitable[str]]]:
    """Yields a function that gives the URL of a new empty database on a throwaway server, or
    of the database `url` names, emptied."""
    if url is not None:
        given = url

        async def emptied() -> str:
            async with await open_storage_url(given) as storage, write_transaction(storage) as w:
                await w.delete_all(fill_order(await w.tables()))
            return given

        yield emptied
        return
    from pg_server import start_server

    server = await asyncio.to_thread(start_server)

    async def created() -> str:
        return server.url(await asyncio.to_thread(server.create_database))

    try:
        yield created
    finally:
        await asyncio.to_thread(server.stop)


def report(figures: list[Figures], args: argparse.Namespace) -> None:
    print(
        f"{args.turns:,} turns in {args.stories} stories per database; {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.1f} at the end"
    )
    print(f"{'backend':<10} {'fill s':>7} {'load p50 ms':>12} {'load p95 ms':>12} {'turns/s':>9}")
    for figure in figures:
        print(
            f"{figure.backend:<10} {figure.fill_s:>7.1f} "
            f"{percentile(figure.loads, 0.50) * 1e3:>12.2f} "
            f"{percentile(figure.loads, 0.95) * 1e3:>12.2f} {figure.insert_rate:>9,.0f}"
        )
    by_name = {figure.backend: figure for figure in figures}
    if "sqlite" in by_name and "postgres" in by_name:
        lite, pg = by_name["sqlite"], by_name["postgres"]
        print(
            f"postgres/sqlite: turns/s {pg.insert_rate / lite.insert_rate:.2f}x, "
            f"load p95 {percentile(pg.loads, 0.95) / percentile(lite.loads, 0.95):.2f}x "
            "(target: turns/s at least 0.33x)"
        )
    for figure in figures:
        if figure.two_processes is not None:
            one, two = figure.two_processes
            print(
                f"{figure.backend}: one process {one:,.0f} turns/s, two processes together "
                f"{two:,.0f} turns/s = {two / one:.2f}x (target 1.5x)"
            )


async def main(args: argparse.Namespace) -> None:
    backends = [name.strip() for name in args.backend.split(",") if name.strip()]
    if args.url is None and "postgres" in backends + ["postgres"] * args.copy:
        sys.path.insert(0, str(ROOT / "tests" / "storage"))
        from pg_server import NOT_INSTALLED, find_binary

        if find_binary("initdb") is None:
            print(f"SQLite only: {NOT_INSTALLED}, or pass --url")
            backends, args.copy = ["sqlite"], False
    figures = []
    with tempfile.TemporaryDirectory(prefix="talewright-bench-") as folder:
        lite_url = sqlite_url(Path(folder) / "bench.db")
        if "sqlite" in backends or args.copy:
            figures.append(await measure(lite_url, "sqlite", args))
        if "postgres" in backends or args.copy:
            async with postgres_databases(args.url) as new_database:
                if "postgres" in backends:
                    pg_url = await new_database()
                    pg = await measure(pg_url, "postgres", args)
                    one = await processes_together(await new_database(), 1, args.inserts)
                    two = await processes_together(await new_database(), 2, args.inserts)
                    pg.two_processes = (one, two)
                    figures.append(pg)
                if args.copy:
                    copy_line = await time_copy(lite_url, await new_database(), Path(folder))
        if "sqlite" not in backends:
            figures = [figure for figure in figures if figure.backend != "sqlite"]
        report(figures, args)
        if args.copy:
            print(copy_line)


async def time_copy(lite_url: str, pg_url: str, folder: Path) -> str:
    there = await copy_database(lite_url, pg_url, replace=True)
    back = await copy_database(pg_url, sqlite_url(folder / "back.db"))
    same = there.tables == back.tables
    return (
        f"db copy of {there.tables['turns'].rows:,} turns ({there.rows:,} rows): "
        f"SQLite -> PostgreSQL {there.seconds:.1f} s, back to SQLite {back.seconds:.1f} s; "
        f"checksums {'identical' if same else 'DIFFERENT'}"
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=100_000)
    parser.add_argument("--stories", type=int, default=100)
    parser.add_argument("--loads", type=int, default=500)
    parser.add_argument("--inserts", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--backend", default="sqlite,postgres", help="sqlite, postgres or both (default both)"
    )
    parser.add_argument(
        "--url", help="an empty postgresql:// database (default: a throwaway server)"
    )
    parser.add_argument(
        "--copy", action="store_true", help="also time db copy to PostgreSQL and back"
    )
    parser.add_argument("--worker", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--channel", type=int, default=2, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


if __name__ == "__main__":
    parsed = parse_args()
    if parsed.worker:
        asyncio.run(worker(parsed.worker, parsed.inserts, parsed.channel))
    else:
        asyncio.run(main(parsed))
