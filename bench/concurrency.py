"""Stories asking the in-process generator at once: 10 and 32 channels each send one
continuation together, and the time until the last answer arrives is measured with the batching
engine (generators.inference.orchestration, as `make play` and a default bot run it) against the
serial path (the same engine with `batching=False`: one request's candidates at a time, as the
in-process generator answered before it batched). Serial and batched runs alternate `--repeat`
times and the medians are printed with their ratio; asserts nothing.

Each channel has its own story and seed, the default sampling settings (the pool of candidates
included) and keyword moderation; the model is loaded once and warmed up. The passage index is
loaded as the served default loads it (`$TALEWRIGHT_RETRIEVAL_INDEX`, else the user cache;
empty: none), so run it with and without. Run with the default `story` reranker and with
`logprob`: the story reranker reads every request's candidates once more after a story-less
prompt (and retrieval its passages after the story's), on the engine's `ScoreBatcher`, which
reads the calls of concurrent requests together ("scoring calls per batch").

Two shared cores (AMD EPYC, AVX2), a quiet machine (load average under 1), `story` reranker,
medians of `--repeat 3` (2026-12-03):

    retrieval  channels  serial s  batched s  ratio
    off        10        3.91      1.21       3.2x
    off        32        12.94     3.73       3.5x
    on         10        4.79      1.52       3.2x
    on         32        14.45     3.71       3.9x

(With passages, a continue samples 3 candidates beside them; it sampled 5 when this read 2.8x
and 2.9x.)

Batched, both paths are bound by arithmetic, not by waiting: the reader reads as many tokens as
the sampler wrote (five candidates of about 30 tokens each after the story-less prompt, and with
retrieval three passages of about 40 tokens twice more), so it is about half of the work. The
passage search itself costs about 0.04 s of a 10-channel burst (measured by serving cached
finds).

    nice -n 10 .venv/bin/python bench/concurrency.py [--channels 10 32] [--rerank story logprob]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from generators.client import InProcessGenerator
from generators.inference.registry import ModelRegistry
from generators.moderation import Moderator
from generators.paths import DEFAULT_CHECKPOINT, retrieval_index
from generators.retrieval.source import load_retrieval
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
    index = retrieval_index()
    retrieval = load_retrieval(index)
    engines = {
        name: InProcessGenerator(
            registry,
            moderator=moderator,
            batching=batching,
            timeout_s=600,
            max_pending=max(args.channels) + 1,
            retrieval=retrieval,
        )
        for name, batching in (("serial", False), ("batched", True))
    }
    for generator in engines.values():
        await generator.generate(channel_request(0))  # warm up: first calls allocate
    load = os.getloadavg()[0]
    passages = f"retrieval from {index}" if retrieval else "no retrieval"
    print(f"checkpoint {args.checkpoint}, {passages}, {args.threads} torch threads")
    print(f"load average at the start {load:.2f} (other processes share the machine)")
    print(f"{'rerank':>8} {'channels':>8} {'serial s':>9} {'batched s':>10} {'ratio':>6}")
    for rerank in args.rerank:
        for channels in args.channels:
            await report(engines, rerank, channels, args.repeat)
    for generator in engines.values():
        await generator.aclose()


async def report(
    engines: dict[str, InProcessGenerator], rerank: str, channels: int, repeat: int
) -> None:
    """Serial and batched runs taken in turn `repeat` times; medians, so that a burst of
    other load on a shared machine moves one run rather than the figure."""
    times: dict[str, list[float]] = {"serial": [], "batched": []}
    answered = {"serial": channels, "batched": channels}
    scoring = engines["batched"].metrics.scoring_batch_size
    before = scoring_calls(scoring)
    for _ in range(repeat):
        for name in times:
            elapsed, ok = await last_answer_s(engines[name], channels, rerank)
            times[name].append(elapsed)
            answered[name] = min(answered[name], ok)
    serial, batched = (statistics.median(times[name]) for name in ("serial", "batched"))
    calls, batches = (a - b for a, b in zip(scoring_calls(scoring), before, strict=True))
    pairs = zip(times["serial"], times["batched"], strict=True)
    runs = "  ".join(f"{a:.1f}/{b:.1f}" for a, b in pairs)
    print(
        f"{rerank:>8} {channels:>8} {serial:>9.2f} {batched:>10.2f} {serial / batched:>5.1f}x"
        f"   runs (serial/batched s): {runs}; answers not the fallback: "
        f"{answered['serial']}/{channels} serial, {answered['batched']}/{channels} batched; "
        f"scoring calls per batch {calls / max(batches, 1):.1f}"
    )


def scoring_calls(histogram) -> tuple[float, float]:
    """The batched reader's calls and batches so far (its Prometheus histogram's sum and
    count)."""
    samples = {s.name: s.value for metric in histogram.collect() for s in metric.samples}
    return samples["talewright_scoring_batch_size_sum"], samples[
        "talewright_scoring_batch_size_count"
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT)
    parser.add_argument("--channels", type=int, nargs="+", default=[10, 32])
    parser.add_argument("--rerank", nargs="+", default=["story", "logprob"])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeat", type=int, default=3, help="serial/batched runs per figure")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
