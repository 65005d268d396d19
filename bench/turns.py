"""Served twists and characters' lines on the validation split, for blind readers and a few
text measures.

    python bench/turns.py --kind twist --seed 0 --out runs/twists_s0.json
    python bench/turns.py --kind dialogue --no-retrieval    # from the models alone

Each validation document is cut as the continuation benchmark cuts it
(`generators.evaluation.continuations`) and the bot's `/story twist` or `/story say` request is
served for it: same prompt building, sampling, reranking and moderation as the bot. A line's
speaker is the person the story mentioned last (a name the corpus knows as a person's; stories
with none are left out). Reports, per genre group, the share of turns that came from the corpus
(`retrieved`), name reuse, names from nowhere and content overlap with the story, and keeps
every sample (the story's end, the turn, where it came from) for blind reading. Nothing is
asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from serving import add_serving_options, served_generator, write_report  # noqa: E402

from generators.evaluation.continuations import (  # noqa: E402
    Generated,
    Item,
    continue_request,
    load_items,
    text_measures,
)
from generators.evaluation.story_fit import story_names  # noqa: E402
from generators.retrieval.recast import NameBook  # noqa: E402

SPEAKER_CHARS = 600
"""How far back a line's speaker may have been mentioned last."""


def speaker_of(item: Item, names: NameBook | None) -> str | None:
    """The person the story's end mentions last (known to the corpus as a person's name, where
    a name book is at hand), or None."""
    end = item.story[-SPEAKER_CHARS:]
    people = [
        n for n in story_names(item.story) if n in end and (names is None or names.is_name(n))
    ]
    return max(people, key=end.rfind) if people else None


async def serve(generator, items: list[Item], seed: int, kind: str, speakers) -> list[Generated]:
    """The served answer to the request of `kind` for each item, one at a time."""
    out = []
    for index, item in enumerate(items):
        request = continue_request(item, seed + index, kind=kind)  # type: ignore[arg-type]
        request.context.speaker = speakers[index]
        response = await generator.generate(request)
        origin = response.candidates[0].origin if response.candidates else "model"
        out.append(Generated(item, response.text, origin=origin))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kind", choices=["twist", "dialogue"], default="twist")
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--per-group", type=int, default=30)
    add_serving_options(parser)
    args = parser.parse_args()
    generator = served_generator(args)

    items = load_items(args.data, args.per_group, args.seed)
    retrieval = generator.engine.retrieval
    if retrieval is not None:  # a book passage never takes a turn from its own book
        books = {item.story[-500:]: item.source for item in items if item.group == "books"}
        retrieval.exclude = lambda request: books.get(
            "\n".join(t.text for t in request.context.turns)[-500:]
        )
    speakers: list[str | None] = [None] * len(items)
    if args.kind == "dialogue":
        book = None
        if (args.retrieval_index / "names.json").exists():
            book = NameBook.from_json(json.loads((args.retrieval_index / "names.json").read_text()))
        speakers = [speaker_of(item, book) for item in items]
        items = [item for item, speaker in zip(items, speakers, strict=True) if speaker]
        speakers = [s for s in speakers if s]
    started = time.perf_counter()
    generated = asyncio.run(serve(generator, items, args.seed, args.kind, speakers))
    groups: dict[str, dict[str, float]] = {}
    for group in sorted({g.item.group for g in generated}):
        mine = [g for g in generated if g.item.group == group]
        measures = [text_measures(g.text, g.item) for g in mine]
        groups[group] = {
            "retrieved": statistics.fmean(g.origin == "retrieved" for g in mine),
            **{
                key: statistics.fmean(m[key] for m in measures)
                for key in ("content_overlap", "name_reuse", "new_name")
            },
        }
    report = {
        "kind": args.kind,
        "seed": args.seed,
        "retrieval": retrieval is not None,
        "groups": groups,
        "seconds": round(time.perf_counter() - started, 1),
        "samples": [
            {**g.sample(), "speaker": speaker}
            for g, speaker in zip(generated, speakers, strict=True)
        ],
    }
    write_report(report, args.out)


if __name__ == "__main__":
    main()
