"""Served story openings (or poems) for a set of story setups, for blind readers and a few
text measures.

    python bench/openings.py --seed 0 --out runs/openings_s0.json
    python bench/openings.py --no-retrieval            # openings from the models alone
    python bench/openings.py --kind poem               # a poem on each setup's title

A new story's first turn (`/story start ... opening:yes`) has no corpus text to be checked
against: it answers the writers' setup (genre, mood, title, premise, characters). So the setups
here are written for this benchmark, the way the bot's users write them, three per genre, some
with a character in play; each is served as the bot serves it (same prompt building, sampling,
reranking and moderation). With `--kind poem` each setup asks for a poem whose theme is its
title, after an opening line of its story. Reports, per genre group, the share of turns that
came from the corpus (`retrieved`), how many name a character in play, and the mood judge's
agreement with the mood asked, and keeps every sample for blind reading. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from serving import add_serving_options, served_generator, write_report  # noqa: E402

from generators.retrieval.index import group_of_genre  # noqa: E402
from generators.schemas import GenerateRequest  # noqa: E402
from generators.text.mood import mood_of  # noqa: E402

SETUPS: list[dict[str, Any]] = [
    {"genre": "children", "mood": "cheerful", "title": "The Brave Little Rabbit",
     "premise": "A little rabbit who is afraid of the dark",
     "characters": [{"name": "Pip", "description": "a small grey rabbit"}]},
    {"genre": "children", "mood": "calm", "title": "Grandma's Garden",
     "premise": "A girl helps her grandma plant flowers in the garden"},
    {"genre": "children", "mood": "sad", "title": "The Lost Ball",
     "premise": "A boy loses his favourite red ball at the park",
     "characters": [{"name": "Sam", "description": "a boy who loves to play ball"}]},
    {"genre": "fairy_tales", "mood": "eerie", "title": "The Glass Well",
     "premise": "A miller's daughter finds a talking frog in a well"},
    {"genre": "fairy_tales", "mood": "cheerful", "title": "The Tailor's Luck",
     "premise": "A poor tailor outwits a greedy king"},
    {"genre": "fairy_tales", "mood": "sad", "title": "The Swan Sisters",
     "premise": "Seven sisters are turned into swans by a wicked queen",
     "characters": [{"name": "Elsa", "description": "the youngest sister, who was spared"}]},
    {"genre": "fantasy_adventure", "mood": "calm", "title": "The Lantern at Gull Point",
     "premise": "A lighthouse keeper finds a door in the sea"},
    {"genre": "fantasy_adventure", "mood": "tense", "title": "The Lost City",
     "premise": "Explorers search the jungle for a lost city of gold"},
    {"genre": "fantasy_adventure", "mood": "cheerful", "title": "Pirates of the Bay",
     "premise": "A cabin boy joins a pirate ship in search of treasure",
     "characters": [{"name": "Jim", "description": "a young cabin boy"}]},
    {"genre": "horror_gothic", "mood": "eerie", "title": "The House on the Moor",
     "premise": "A haunted castle on a stormy night"},
    {"genre": "horror_gothic", "mood": "tense", "title": "The Count's Guest",
     "premise": "A young lawyer travels to a count's castle in the mountains",
     "characters": [{"name": "Jonathan", "description": "a young English lawyer"}]},
    {"genre": "horror_gothic", "mood": "sad", "title": "The Grave by the Chapel",
     "premise": "A widow visits her husband's grave and hears a voice"},
    {"genre": "mystery", "mood": "tense", "title": "The Stolen Necklace",
     "premise": "A detective investigates a stolen necklace at a country house"},
    {"genre": "mystery", "mood": "calm", "title": "The Locked Study",
     "premise": "A man is found dead in a study locked from the inside",
     "characters": [{"name": "Holmes", "description": "a famous consulting detective"}]},
    {"genre": "mystery", "mood": "eerie", "title": "The Midnight Letter",
     "premise": "A strange letter arrives at midnight with no name on it"},
    {"genre": "science_fiction", "mood": "tense", "title": "The Red Planet",
     "premise": "Travellers land on Mars and find the ruins of a city"},
    {"genre": "science_fiction", "mood": "calm", "title": "The Time Machine's Return",
     "premise": "An inventor builds a machine that travels through time"},
    {"genre": "science_fiction", "mood": "eerie", "title": "Under the Ice",
     "premise": "A submarine crew finds a light under the polar ice",
     "characters": [{"name": "Captain Ward", "description": "the submarine's captain"}]},
]  # fmt: skip


def opening_request(setup: dict[str, Any], seed: int, kind: str = "opening") -> GenerateRequest:
    """The request the bot sends for a new story's opening (engine defaults), or for a poem on
    the setup's title once the story has begun."""
    context = {k: setup[k] for k in ("genre", "mood", "title", "premise") if k in setup}
    context["characters"] = setup.get("characters", [])
    if kind == "poem":
        context["theme"] = setup["title"]
        context["turns"] = [{"text": setup["premise"] + "."}]
    params = {"n": 3, "seed": seed, "max_tokens": 70, "temperature": 0.8, "top_p": 0.95}
    return GenerateRequest.model_validate(
        {"kind": kind, "context": context, "params": {**params, "repetition_penalty": 1.1}}
    )


def setup_text(setup: dict[str, Any]) -> str:
    """The setup as a reader is shown it."""
    lines = [
        f"Genre: {setup['genre'].replace('_', ' ')}",
        f"Mood: {setup['mood']}",
        f"Title: {setup['title']}",
        f"Premise: {setup['premise']}",
    ]
    lines += [f"Character: {c['name']}, {c['description']}" for c in setup.get("characters", [])]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kind", choices=["opening", "poem"], default="opening")
    add_serving_options(parser)
    args = parser.parse_args()
    generator = served_generator(args)

    async def serve() -> list[tuple[str, str]]:
        out = []
        for index, setup in enumerate(SETUPS):
            request = opening_request(setup, args.seed * 1000 + index, args.kind)
            response = await generator.generate(request)
            origin = response.candidates[0].origin if response.candidates else "model"
            out.append((response.text, origin))
        return out

    started = time.perf_counter()
    served = asyncio.run(serve())
    samples = [
        {
            "group": group_of_genre(setup["genre"]),
            "genre": setup["genre"],
            "story_end": setup_text(setup),
            "model": text,
            "origin": origin,
            "names_character": any(
                part in text for c in setup.get("characters", []) for part in c["name"].split()
            ),
            "mood_asked": setup["mood"],
            "mood_read": mood_of(text),
        }
        for setup, (text, origin) in zip(SETUPS, served, strict=True)
    ]
    groups: dict[str, dict[str, float]] = {}
    for group in ("children", "books"):
        mine = [s for s in samples if s["group"] == group]
        with_characters = [
            s for s, setup in zip(samples, SETUPS, strict=True)
            if s["group"] == group and setup.get("characters")
        ]  # fmt: skip
        groups[group] = {
            "retrieved": statistics.fmean(s["origin"] == "retrieved" for s in mine),
            "names_a_character": statistics.fmean(s["names_character"] for s in with_characters),
            "mood_control": statistics.fmean(s["mood_read"] == s["mood_asked"] for s in mine),
        }
    report = {
        "kind": args.kind,
        "seed": args.seed,
        "retrieval": generator.engine.retrieval is not None,
        "groups": groups,
        "seconds": round(time.perf_counter() - started, 1),
        "samples": samples,
    }
    write_report(report, args.out)


if __name__ == "__main__":
    main()
