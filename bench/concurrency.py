"""Stories asking the in-process generator at once: 10 and 32 channels each send one
continuation together, and the time until the last answer arrives is measured with the batching
engine (generators.inference.orchestration, as `make play` and a default bot run it) against the
serial path (the same engine with `batching=False`: one request's candidates at a time, as the
in-process generator answered before it batched). Prints the times and the ratio; asserts
nothing.

Each channel has its own story and seed, the default sampling settings (the pool of candidates
included) and keyword moderation; the model is loaded once and warmed up. Run with the default
`story` reranker and with `logprob`: the story reranker reads every request's candidates once
more after a story-less prompt, one request at a time outside the batch, so it bounds the gain.

    nice -n 10 .venv/bin/python bench/concurrency.py [--channels 10 32] [--rerank story logprob]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from generators.client import InProcessGenerator
from generators.inference.registry import ModelRegistry
from generators.moderation import Moderator
from generators.paths import DEFAULT_CHECKPOINT
from generators.schemas import GenerateRequest

PEOPLE = ["Lily", "Tom", "Mia", "Sam", "Ava", "Ben", "Zoe", "Max"]
PLACES = ["the old mill", "the harbour", "a quiet forest", "the school roof", "the market"]


def channel_request(channel: int, rerank: str = "story") -> GenerateRequest:
    """A different short story per channel, as the bot would send it."""
    who = PEOPLE[channel % len(PEOPLE)]
    where = PLACES[channel % len(PLACES)]
    turns = [
        {"author": "ana", "text": f"{who} walked to {where} before sunrise."},
        {"author": "ben", "text": f"Something small was moving near {where}, and {who} stopped."},
    ]
    return GenerateRequest.model_validate(
        {"kind": "continue", "context": {"genre": "children", "turns": turns},
         "params": {"seed": 1000 + channel, "rerank": rerank}}
    )  # fmt: skip


async def last_answer_s(
    generator: InProcessGenerator, channels: int, rerank: str
) -> tuple[float, int]:
    """Seconds from sending every channel's request at once to the last answer, and the
    answers that are not the fallback line."""
    requests = [channel_request(i, rerank) for i in range(channels)]
    started = time.perf_counter()
    answers = await asyncio.gather(*(generator.generate(r) for r in requests))
    elapsed = time.perf_counter() - started
    return elapsed, sum(not a.fallback for a in answers)


async def run(args: argparse.Namespace) -> None:
    registry = ModelRegistry(args.device)
    registry.load(args.checkpoint)
    moderator = Moderator(use_classifier=False)
    engines = {
        name: InProcessGenerator(
            registry,
            moderator=moderator,
            batching=batching,
            timeout_s=600,
            max_pending=max(args.channels) + 1,
        )
        for name, batching in (("serial", False), ("batched", True))
    }
    for generator in engines.values():
        await generator.generate(channel_request(0))  # warm up: first calls allocate
    load = os.getloadavg()[0]
    print(f"checkpoint {args.checkpoint}, {args.threads} torch threads, load {load:.2f}")
    print(f"{'rerank':>8} {'channels':>8} {'serial s':>9} {'batched s':>10} {'ratio':>6}")
    for rerank in args.rerank:
        for channels in args.channels:
            await report(engines, rerank, channels)
    for generator in engines.values():
        await generator.aclose()


async def report(engines: dict[str, InProcessGenerator], rerank: str, channels: int) -> None:
    serial, ok_serial = await last_answer_s(engines["serial"], channels, rerank)
    batched, ok_batched = await last_answer_s(engines["batched"], channels, rerank)
    print(
        f"{rerank:>8} {channels:>8} {serial:>9.2f} {batched:>10.2f} {serial / batched:>5.1f}x"
        f"   (answers not the fallback: {ok_serial}/{channels} serial, "
        f"{ok_batched}/{channels} batched)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT)
    parser.add_argument("--channels", type=int, nargs="+", default=[10, 32])
    parser.add_argument("--rerank", nargs="+", default=["story", "logprob"])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
