"""The story-continuation benchmark on the validation split (see
`generators.evaluation.continuations`), and the sweep that tuned the `story` reranker.

    python bench/continuations.py                       # served defaults, 30 + 30 items
    python bench/continuations.py --rerank logprob      # the old reranker, for comparison
    python bench/continuations.py --tune --pool 8       # sweep the story reranker's weights

`--tune` samples `--pool` candidates per item once (served sampling and moderation, unranked)
and then lets each setting of the weights choose among the same candidates, so settings are
compared on equal draws. Prints JSON; nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import itertools
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from generators.evaluation.continuations import (  # noqa: E402
    continue_request,
    load_items,
    run_benchmark,
    text_measures,
)
from generators.paths import DEFAULT_CHECKPOINT, VAE_CHECKPOINT  # noqa: E402


def progress(stage: str, done: int, total: int) -> None:
    if done == total or done % 10 == 0:
        print(f"  {stage}: {done}/{total}", file=sys.stderr, flush=True)


def grid_weights(unconditional: float, bonus: float, penalty: float):
    """The tuning grid's weights: the mutual-information weight alike for every genre, the
    other terms off."""
    from generators.inference.story_rerank import StoryWeights

    return StoryWeights(unconditional, bonus, penalty, unconditional_books=unconditional)


def tune(args: argparse.Namespace) -> dict:
    from generators.client import InProcessGenerator
    from generators.inference.story_rerank import story_scores
    from generators.moderation import Moderator

    items = load_items(args.data, args.per_group, args.seed)
    generator = InProcessGenerator.from_checkpoints(
        [args.checkpoint], moderator=Moderator(use_classifier=False)
    )
    served = generator.registry.get(None)
    pools = []

    async def sample_pools() -> None:
        for index, item in enumerate(items):
            request = continue_request(
                item, args.seed + index, params={"n": args.pool, "rerank": "random"}
            )
            response = await generator.generate(request)
            pools.append([c.text for c in response.candidates])
            progress("pool", index + 1, len(items))

    asyncio.run(sample_pools())
    # Each candidate's parts of the score are computed once; the grid only reweights them.
    parts = []
    for item, pool in zip(items, pools, strict=True):
        request = continue_request(item, 0)
        conditional = story_scores(served, request, pool, grid_weights(0.0, 0.0, 0.0))
        storyless = story_scores(served, request, pool, grid_weights(-1.0, 0.0, 0.0))
        named = story_scores(served, request, pool, grid_weights(0.0, 1.0, 0.0))
        strangers = story_scores(served, request, pool, grid_weights(0.0, 0.0, 1.0))
        parts.append(
            [
                (c, s - c, n - c, c - x)
                for c, s, n, x in zip(conditional, storyless, named, strangers, strict=True)
            ]
        )
    grid = itertools.product((0.0, 0.25, 0.5, 0.75, 1.0), (0.0, 0.3, 1.0), (0.0, 0.5, 1.0))
    results = []
    for unconditional, bonus, penalty in grid:
        weights = grid_weights(unconditional, bonus, penalty)
        rows: dict[str, dict[str, list[float]]] = {}
        for item, pool, scored in zip(items, pools, parts, strict=True):
            if not pool:
                continue
            scores = [c - unconditional * u + bonus * n - penalty * x for c, u, n, x in scored]
            best = pool[max(range(len(pool)), key=scores.__getitem__)]
            for key, value in text_measures(best, item).items():
                rows.setdefault(item.group, {}).setdefault(key, []).append(value)
        results.append(
            {
                "weights": weights.__dict__,
                **{
                    group: {k: round(statistics.fmean(v), 3) for k, v in values.items()}
                    for group, values in rows.items()
                },
            }
        )
    truth: dict[str, dict[str, list[float]]] = {}
    for item in items:
        for key, value in text_measures(item.truth, item).items():
            truth.setdefault(item.group, {}).setdefault(key, []).append(value)
    return {
        "true": {
            g: {k: round(statistics.fmean(v), 3) for k, v in r.items()} for g, r in truth.items()
        },
        "settings": results,
    }


def cost(args: argparse.Namespace) -> dict:
    """Seconds per `/story continue` served today's way (3 candidates by log-probability, no
    name bias) and the story way (a pool ranked by the story reranker), interleaved on the
    same stories so that the machine's drift hits both alike."""
    import generators.inference.name_bias
    from generators.client import InProcessGenerator
    from generators.moderation import Moderator

    items = load_items(args.data, args.per_group, args.seed)
    generator = InProcessGenerator.from_checkpoints(
        [args.checkpoint],
        moderator=Moderator(use_classifier=False),
        retrieval_index=args.retrieval_index,
    )
    boost = generators.inference.name_bias.NAME_BOOST
    times: dict[str, list[float]] = {"logprob": [], "story": []}

    async def one(item, seed: int, rerank: str) -> float:
        generators.inference.name_bias.NAME_BOOST = boost if rerank == "story" else 0.0
        request = continue_request(item, seed, params={"rerank": rerank})
        started = time.perf_counter()
        await generator.generate(request)
        return time.perf_counter() - started

    async def run() -> None:
        for index, item in enumerate(items):
            order = ("logprob", "story") if index % 2 else ("story", "logprob")
            for rerank in order:
                times[rerank].append(await one(item, args.seed + index, rerank))

    asyncio.run(run())
    medians = {k: statistics.median(v) for k, v in times.items()}
    return {
        "items": len(items),
        "median_s": medians,
        "mean_s": {k: statistics.fmean(v) for k, v in times.items()},
        "story_over_logprob": medians["story"] / medians["logprob"],
    }


def mood_only(args: argparse.Namespace) -> dict:
    """Mood control alone, on more items than the full run asks (cheap enough to tune on): each
    item's continuation asked for a random mood, judged by the lexicon judge, with the text
    measures of the same continuations so that a gain in mood is seen beside what it costs."""
    from generators.client import InProcessGenerator
    from generators.evaluation.continuations import (
        generate_continuations,
        mood_control,
        mood_samples,
        random_moods,
        text_measures,
    )
    from generators.evaluation.language_model import distinct_n
    from generators.moderation import Moderator
    from generators.text.mood import mood_of

    items = load_items(args.data, args.per_group, args.seed)
    subset = items[:: max(1, len(items) // args.mood_items)][: args.mood_items]
    moods = random_moods(len(subset), args.seed)
    generator = InProcessGenerator.from_checkpoints(
        [args.checkpoint],
        moderator=Moderator(use_classifier=False),
        retrieval_index=args.retrieval_index,
    )
    mooded = generate_continuations(generator, subset, args.seed + 10_000, None, moods)
    measures = [text_measures(g.text, g.item) for g in mooded]
    confusion: dict[str, dict[str, int]] = {}
    for g in mooded:
        row = confusion.setdefault(g.mood_asked or "-", {})
        judged = mood_of(g.text)
        row[judged] = row.get(judged, 0) + 1
    return {
        "mood_boost": generators_mood_boost(),
        **mood_control(mooded),
        "confusion": confusion,
        "content_overlap": statistics.fmean(m["content_overlap"] for m in measures),
        "name_reuse": statistics.fmean(m["name_reuse"] for m in measures),
        "distinct_2": distinct_n([g.text for g in mooded], 2),
        "mood_samples": mood_samples(mooded),
    }


def generators_mood_boost() -> float:
    import generators.inference.mood_bias

    return generators.inference.mood_bias.MOOD_BOOST


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT)
    parser.add_argument("--vae", type=Path, default=VAE_CHECKPOINT)
    parser.add_argument(
        "--retrieval-index", type=Path, default=None, help="the passage index (default: none)"
    )
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--per-group", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rerank", choices=["story", "logprob"], default=None)
    parser.add_argument("--candidates", type=int, default=None, help="n of the request")
    parser.add_argument("--temperature", type=float, default=None)
    parser.add_argument("--name-boost", type=float, default=None, help="override NAME_BOOST")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--overlap-weight", type=float, default=None, help="override it")
    parser.add_argument("--unconditional", type=float, default=None, help="override its weight")
    parser.add_argument("--unconditional-books", type=float, default=None, help="override it")
    parser.add_argument("--mood-weight", type=float, default=None, help="override it")
    parser.add_argument("--human-children", type=float, default=None, help="override it")
    parser.add_argument("--retrieved", type=int, default=None, help="override RETRIEVED")
    parser.add_argument("--samples-beside", type=int, default=None, help="override it")
    parser.add_argument("--human-books", type=float, default=None, help="override it")
    parser.add_argument("--mood-boost", type=float, default=None, help="override MOOD_BOOST")
    parser.add_argument("--mood-only", action="store_true", help="mood control alone")
    parser.add_argument("--mood-items", type=int, default=40)
    parser.add_argument("--tune", action="store_true")
    parser.add_argument("--cost", action="store_true", help="time both rerankers per request")
    parser.add_argument("--pool", type=int, default=8)
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    args = parser.parse_args()
    if not args.data.is_dir():
        print(f"no corpus at {args.data}", file=sys.stderr)
        return 2
    if args.name_boost is not None:
        import generators.inference.name_bias

        generators.inference.name_bias.NAME_BOOST = args.name_boost
    if args.retrieved is not None or args.samples_beside is not None:
        import generators.retrieval.source as retrieval

        if args.retrieved:
            retrieval.RETRIEVED = args.retrieved
        if args.samples_beside:
            retrieval.SAMPLES_BESIDE = dict.fromkeys(retrieval.SAMPLES_BESIDE, args.samples_beside)
    if args.mood_boost is not None:
        import generators.inference.mood_bias

        generators.inference.mood_bias.MOOD_BOOST = args.mood_boost
    overrides = {
        "unconditional": args.unconditional,
        "unconditional_books": args.unconditional_books,
        "overlap": args.overlap_weight,
        "mood": args.mood_weight,
        "human_children": args.human_children,
        "human_books": args.human_books,
    }
    overrides = {k: v for k, v in overrides.items() if v is not None}
    if overrides:
        import generators.inference.story_rerank

        weights = generators.inference.story_rerank.STORY_WEIGHTS
        generators.inference.story_rerank.STORY_WEIGHTS = dataclasses.replace(weights, **overrides)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    started = time.perf_counter()
    if args.cost:
        result = cost(args)
    elif args.mood_only:
        result = mood_only(args)
    elif args.tune:
        result = tune(args)
    else:
        params = {}
        if args.rerank:
            params["rerank"] = args.rerank
        if args.candidates:
            params["n"] = args.candidates
        if args.temperature:
            params["temperature"] = args.temperature
        result = run_benchmark(
            args.checkpoint,
            args.data,
            per_group=args.per_group,
            seed=args.seed,
            vae=args.vae if args.vae and args.vae.exists() else None,
            retrieval_index=args.retrieval_index,
            params=params,
            progress=progress,
        )
    import generators.inference.name_bias
    import generators.inference.story_rerank

    result["name_boost"] = generators.inference.name_bias.NAME_BOOST
    result["story_weights"] = generators.inference.story_rerank.STORY_WEIGHTS.__dict__
    result["seconds"] = round(time.perf_counter() - started, 1)
    text = json.dumps(result, indent=1)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)
    print(
        text
        if not args.out
        else json.dumps({k: v for k, v in result.items() if k != "samples"}, indent=1)
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
