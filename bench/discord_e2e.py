"""The Discord bot under load, through the local fake Discord (tests/e2e/fakediscord).

100 channels each run a story at once: `/story start` (a new thread), `/story write` and
`/story continue`, the three in order within a channel and the channels concurrently. Prints the
time to acknowledge each interaction (p50/p95/max; Discord drops an interaction not acknowledged
within 3 s) and the time from `/story continue` until its generated turn is posted (p50/p95),
with the default model on CPU. The bot and the fake share this process. Prints; asserts nothing.

    nice -n 10 .venv/bin/python bench/discord_e2e.py [--channels 100] [--checkpoint DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "e2e"))

from fakediscord import FakeDiscord, Interaction, running_bot  # noqa: E402

from bot.discord.client import StoryBot  # noqa: E402
from bot.discord.run import open_engine  # noqa: E402
from bot.settings import (  # noqa: E402
    BotSection,
    GeneratorSection,
    ModerationSection,
    Settings,
    StorageSection,
)
from generators.paths import bundled_checkpoints  # noqa: E402

ACK_DEADLINE_S = 3.0
WAIT_S = 1800.0
DEFAULT_MODELS = (*bundled_checkpoints(), ROOT / "runs" / "lstm-default" / "best")


def default_checkpoint() -> Path | None:
    return next((path for path in DEFAULT_MODELS if (path / "config.json").is_file()), None)


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def answered(ix: Interaction) -> float:
    """Seconds from the interaction to its answer being visible (placeholder replaced)."""

    def done() -> bool:
        visible = ix.visible
        return bool(visible) and not any(message.loading for message in visible)

    await ix.world.changes.wait_for(done, WAIT_S, f"an answer to interaction {ix.id}")
    return time.monotonic() - ix.created_at


async def one_story(fake: FakeDiscord, index: int, posted: list[float]) -> list[Interaction]:
    channel = f"bench-{index}"
    options = {"title": f"Bench {index}", "genre": "fantasy_adventure"}
    start = await fake.slash("alice", channel, "story", "start", options=options)
    await answered(start)
    thread = next(t for t in fake.threads(channel))
    text = {"text": f"The caravan reached the {index}th well at dusk."}
    write = await fake.slash("alice", thread, "story", "write", options=text)
    await answered(write)
    generate = await fake.slash("alice", thread, "story", "continue")
    posted.append(await answered(generate))
    return [start, write, generate]


def report(name: str, values: Sequence[float]) -> None:
    print(
        f"  {name:<28} n={len(values):<4} p50 {statistics.median(values):7.3f} s   "
        f"p95 {percentile(values, 0.95):7.3f} s   max {max(values):7.3f} s"
    )


async def bench(args: argparse.Namespace) -> None:
    checkpoint = Path(args.checkpoint) if args.checkpoint else default_checkpoint()
    if checkpoint is None:
        sys.exit("no default model; pass --checkpoint DIR")
    with tempfile.TemporaryDirectory(prefix="talewright-bench-") as scratch:
        async with FakeDiscord() as fake:
            for index in range(args.channels):
                fake.add_channel(f"bench-{index}")
            settings = Settings(
                bot=BotSection(
                    token=fake.token,
                    dev_guild_id=fake.guild.id,
                    api_base_url=fake.api_base_url,
                    generation_cooldown_s=0,
                    guild_generation_cooldown_s=0,
                ),
                storage=StorageSection(path=Path(scratch) / "bench.db"),
                generator=GeneratorSection(
                    checkpoints=[checkpoint], threads=args.threads, timeout_s=args.timeout
                ),
                moderation=ModerationSection(use_classifier=not args.no_classifier),
            )
            print(
                f"{args.channels} stories at once; model {checkpoint}, "
                f"{settings.generator.max_tokens} tokens x {settings.generator.candidates} "
                f"candidates, {args.threads} torch thread(s), {os.cpu_count()} CPUs"
            )
            async with (
                open_engine(settings) as engine,
                running_bot(StoryBot(engine, settings.bot), fake, timeout=120),
            ):
                posted: list[float] = []
                started = time.monotonic()
                stories = await asyncio.gather(
                    *(one_story(fake, i, posted) for i in range(args.channels))
                )
                elapsed = time.monotonic() - started
    interactions = [ix for story in stories for ix in story]
    acks = [ix.ack_latency for ix in interactions if ix.ack_latency is not None]
    late = sum(1 for ack in acks if ack >= ACK_DEADLINE_S) + len(interactions) - len(acks)
    print(f"all {len(stories)} stories done in {elapsed:.1f} s")
    print("acknowledgement (Discord's limit: 3 s)")
    for name, position in (("/story start", 0), ("/story write", 1), ("/story continue", 2)):
        values = [s[position].ack_latency for s in stories if s[position].ack_latency is not None]
        report(name, values)
    report("every interaction", acks)
    print(f"  late or never acknowledged: {late}")
    print("generated turn posted, from /story continue")
    report("/story continue -> turn", posted)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, default=100)
    parser.add_argument("--checkpoint", help="model folder (default: the default model)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    parser.add_argument(
        "--timeout", type=float, default=WAIT_S, help="generation timeout in seconds"
    )
    parser.add_argument("--no-classifier", action="store_true", help="word lists only")
    asyncio.run(bench(parser.parse_args()))


if __name__ == "__main__":
    main()
