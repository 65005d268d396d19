"""Subcommands that work on models and text: eval, generate, moderate."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from generators.schemas import GENRES, KINDS, MOODS


def _print(result: dict[str, Any], fmt: str) -> None:
    if fmt == "json":
        print(json.dumps(result, ensure_ascii=False))
        return
    width = max(len(k) for k in result)
    for key, value in result.items():
        shown = f"{value:.4f}" if isinstance(value, float) else value
        print(f"{key:<{width}}  {shown}")


def _eval(args: argparse.Namespace) -> int:
    from generators.evaluation.language_model import evaluate_checkpoint_on_text, evaluate_samples

    if args.text is None and not args.samples and not args.continuations:
        print("error: give --text FILE, --samples N and/or --continuations", file=sys.stderr)
        return 2
    result: dict[str, Any] = {}
    try:
        if args.text is not None:
            result.update(
                evaluate_checkpoint_on_text(Path(args.checkpoint), Path(args.text), args.genre)
            )
        if args.samples:
            data = Path(args.data) if args.data else None
            result.update(evaluate_samples(Path(args.checkpoint), args.samples, data, args.seed))
        if args.continuations:
            result.update(_continuations(args))
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    _print(result, args.format)
    return 0


def _continuations(args: argparse.Namespace) -> dict[str, Any]:
    """The story-continuation benchmark, flattened to `group.measure` keys for the table."""
    from generators.evaluation.continuations import run_benchmark
    from generators.paths import retrieval_index

    data = Path(args.data)
    if not data.is_dir():
        raise ValueError(f"--continuations needs the corpus; {data} is not a folder")
    index = Path(args.retrieval_index) if args.retrieval_index else retrieval_index()
    report = run_benchmark(
        Path(args.checkpoint), data, per_group=args.n, seed=args.seed, retrieval_index=index
    )
    flat: dict[str, Any] = {"rerank": report["rerank"]}
    for group, values in report["groups"].items():
        flat.update({f"{group}.{key}": value for key, value in values.items()})
    flat.update(report["control"])
    return flat


def _generate(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from generators.client import InProcessGenerator
    from generators.errors import CheckpointError, GeneratorError
    from generators.moderation import Moderator
    from generators.schemas import GenerateRequest

    context: dict[str, Any] = {"genre": args.genre}
    if args.mood:
        context["mood"] = args.mood
    if args.prompt:
        context["turns"] = [{"author": "you", "text": args.prompt}]
    if args.premise:
        context["premise"] = args.premise
    if args.character:
        context["speaker"] = args.character
        context["characters"] = [{"name": args.character}]
    if args.theme:
        context["theme"] = args.theme
    try:
        request = GenerateRequest.model_validate(
            {
                "kind": args.kind,
                "context": context,
                "params": {
                    "n": args.n,
                    "seed": args.seed,
                    "max_tokens": args.max_tokens,
                    "temperature": args.temperature,
                },
                "moderation_level": args.level,
            }
        )
        generator = InProcessGenerator.from_checkpoints(
            [Path(args.checkpoint)], moderator=Moderator(use_classifier=False)
        )
        response = asyncio.run(generator.generate(request))
    except ValidationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (CheckpointError, GeneratorError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.format == "json":
        print(response.model_dump_json())
        return 0
    for index, candidate in enumerate(response.candidates, 1):
        print(f"--- candidate {index} (mean log-prob {candidate.score:.3f}) ---")
        print(candidate.text)
    return 0


def _moderate(args: argparse.Namespace) -> int:
    from generators.moderation import Moderator

    text = " ".join(args.text) if args.text else sys.stdin.read()
    verdict = Moderator(use_classifier=not args.no_classifier).check(text, args.level)
    print(verdict.model_dump_json(indent=None if args.compact else 2))
    return 0


def add_generator_commands(sub: argparse._SubParsersAction) -> None:
    evaluate = sub.add_parser(
        "eval", help="score text (bits per char) or samples with a checkpoint"
    )
    evaluate.add_argument("checkpoint", help="checkpoint folder")
    evaluate.add_argument("--text", help="UTF-8 text, documents separated by blank lines")
    evaluate.add_argument("--genre", choices=GENRES, help="genre control token to condition on")
    evaluate.add_argument(
        "--samples",
        type=int,
        default=0,
        help="also sample N openings per genre x mood and measure variety/control",
    )
    evaluate.add_argument(
        "--data",
        default="../shared/data",
        help="corpus folder for the genre classifier (control accuracy)",
    )
    evaluate.add_argument(
        "--continuations",
        action="store_true",
        help="continue validation stories as the bot would and measure how they follow them",
    )
    evaluate.add_argument(
        "--n", type=int, default=30, help="validation stories per group for --continuations"
    )
    evaluate.add_argument(
        "--retrieval-index",
        help="passage index for --continuations (default: the served one, when built)",
    )
    evaluate.add_argument("--seed", type=int, default=0)
    evaluate.add_argument("--format", choices=["json", "table"], default="table")
    evaluate.set_defaults(func=_eval)

    generate = sub.add_parser("generate", help="print candidates from a checkpoint")
    generate.add_argument("checkpoint", help="checkpoint folder")
    generate.add_argument("--kind", choices=KINDS, default="continue")
    generate.add_argument("--genre", choices=GENRES, default="children")
    generate.add_argument("--mood", choices=MOODS)
    generate.add_argument("--prompt", help="the story so far (one turn)")
    generate.add_argument("--premise", help="what the story is about")
    generate.add_argument("--character", help="dialogue: who speaks")
    generate.add_argument("--theme", help="poem: what it is about")
    generate.add_argument("--n", type=int, default=3)
    generate.add_argument("--seed", type=int)
    generate.add_argument("--max-tokens", type=int, default=70)
    generate.add_argument("--temperature", type=float, default=0.8)
    generate.add_argument("--level", choices=["family", "teen", "mature"], default="teen")
    generate.add_argument("--format", choices=["json", "text"], default="text")
    generate.set_defaults(func=_generate)

    moderate = sub.add_parser("moderate", help="print the moderation verdict for a text as JSON")
    moderate.add_argument("text", nargs="*", help="the text (default: read standard input)")
    moderate.add_argument("--level", choices=["family", "teen", "mature"], default="teen")
    moderate.add_argument("--no-classifier", action="store_true", help="word lists only")
    moderate.add_argument("--compact", action="store_true", help="one line of JSON")
    moderate.set_defaults(func=_moderate)
