"""How fast storage serves one AI turn's context once a database holds many turns.

Fills a temporary SQLite database with 100,000 turns across stories (bulk, in one transaction),
then times what `StoryEngine.ai_turn` loads before generating: the last 50 accepted turns, the
story's characters and the requesting user's style profile. Also reports how many turns per
second `turns.add` stores one at a time, each in its own committed transaction.

    .venv/bin/python bench/storage_load.py [--turns 100000] [--stories 100]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from pathlib import Path

from storage.models import TurnDraft
from storage.sqlite import SqliteStorage, open_storage

GUILD = 1
VECTOR_WIDTH = 64
WORDS = ("lantern", "storm", "door", "whispered", "old", "map", "river", "night", "silver")
WORDS += ("shadow", "wolf", "crown", "ship", "garden", "quiet", "letter", "tower", "stranger")


async def fill(
    storage: SqliteStorage, turns: int, stories: int, rng: random.Random
) -> dict[int, int]:
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
            title=f"Story {index}",
            genre="fantasy_adventure",
        )
        owners[story.id] = owner
        for number in range(3):
            character = await storage.characters.create(
                GUILD, owner, f"Hero {index}-{number}", description="Brave. " * 20
            )
            await storage.characters.link(story.id, character.id, added_by=owner)
        vectors = [[rng.gauss(0.0, 1.0) for _ in range(VECTOR_WIDTH)] for _ in range(20)]
        await storage.styles.add_vectors(owner, vectors, {"avg_sentence_len": 14.0})

    rows = []
    now = time.time()
    per_story = turns // stories
    for story_id in owners:
        slot = 0
        made = 0
        while made < per_story:
            # One slot in five was rerolled once: a discarded candidate beside the kept one.
            alternatives = 2 if slot % 5 == 4 and per_story - made >= 2 else 1
            for alt in range(alternatives):
                state = "accepted" if alt == alternatives - 1 else "discarded"
                text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(12, 60)))
                rows.append(
                    (
                        story_id,
                        slot,
                        alt,
                        "model",
                        1000,
                        "Ann",
                        1000,
                        "narration",
                        text,
                        "lstm-v1",
                        '{"temperature":0.8}',
                        state,
                        now,
                    )
                )
            made += alternatives
            slot += 1
    async with storage.database.transaction() as conn:
        await conn.executemany(
            "INSERT INTO turns (story_id, slot, alt_index, author_kind, author_id, author_name, "
            "accepted_by, kind, text, model_id, params_json, state, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
    return owners


async def time_loads(
    storage: SqliteStorage, owners: dict[int, int], loads: int, rng: random.Random
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


async def time_inserts(storage: SqliteStorage, count: int) -> float:
    """Turns per second through `turns.add`, one committed transaction each."""
    story = await storage.stories.create(
        guild_id=GUILD, channel_id=1, owner_id=1, title="Insert rate", genre="mystery"
    )
    started = time.perf_counter()
    for index in range(count):
        await storage.turns.add(
            story.id, TurnDraft(author_kind="user", text=f"Turn {index}.", author_id=1)
        )
    return count / (time.perf_counter() - started)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def main(args: argparse.Namespace) -> None:
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.db"
        async with await open_storage(path) as storage:
            started = time.perf_counter()
            owners = await fill(storage, args.turns, args.stories, rng)
            fill_s = time.perf_counter() - started
            await time_loads(storage, owners, 20, rng)  # warm the page cache
            timings = await time_loads(storage, owners, args.loads, rng)
            insert_rate = await time_inserts(storage, args.inserts)
        size_mb = path.stat().st_size / 1e6

    print(
        f"database: {args.turns:,} turns in {args.stories} stories, {size_mb:.1f} MB, "
        f"filled in {fill_s:.1f} s ({args.turns / fill_s:,.0f} turns/s in one bulk transaction)"
    )
    print(f"context load (last 50 turns + characters + style profile), {args.loads} loads:")
    print(
        f"  p50 {percentile(timings, 0.50) * 1e3:.2f} ms   "
        f"p95 {percentile(timings, 0.95) * 1e3:.2f} ms   "
        f"mean {statistics.fmean(timings) * 1e3:.2f} ms"
    )
    print(
        f"turns.add, one committed transaction each: {insert_rate:,.0f} turns/s "
        f"({args.inserts} inserts)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=100_000)
    parser.add_argument("--stories", type=int, default=100)
    parser.add_argument("--loads", type=int, default=500)
    parser.add_argument("--inserts", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=0)
    asyncio.run(main(parser.parse_args()))
