"""A small synthetic corpus in the layout of ../shared/data, built by the tests themselves.

Two genres with different vocabularies and shapes, so a tiny model can learn them in seconds and
genre control means something: `children` stories in TinyStories style and `horror_gothic`
passages in book style (blank lines between paragraphs).
"""

from __future__ import annotations

import random
from pathlib import Path

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
"""The real corpus beside the repository (CI has it); tests that need it are marked `corpus`."""

NAMES = ["Lily", "Tom", "Mia", "Ben", "Sue", "Max"]
ANIMALS = ["cat", "dog", "bird", "fish", "frog", "duck"]
THINGS = ["ball", "kite", "hat", "cake", "book", "boat"]
PLACES = ["park", "garden", "house", "lake", "school", "farm"]
GLOOM = ["castle", "crypt", "tower", "abbey", "manor", "chapel"]
DREAD = ["shadow", "whisper", "cold", "silence", "candle", "mist"]


def children_story(rng: random.Random) -> str:
    name, animal, thing, place = (
        rng.choice(NAMES),
        rng.choice(ANIMALS),
        rng.choice(THINGS),
        rng.choice(PLACES),
    )
    return (
        f"Once upon a time, there was a little {animal} named {name}. {name} loved to play "
        f"with a red {thing} in the {place}.\n"
        f'One day, {name} saw a big {thing} near the {place}. "Can I play with you?" asked '
        f"{name}. The {animal} was very happy.\n"
        f"They played all day in the {place}, and {name} smiled. The end."
    )


def gothic_passage(rng: random.Random) -> str:
    place, dread, other = rng.choice(GLOOM), rng.choice(DREAD), rng.choice(DREAD)
    name = rng.choice(NAMES)
    return (
        f"The night had fallen upon the old {place}, and a {dread} crept along the\n"
        f"stones of the hall. {name} held the lamp high and listened.\n\n"
        f"There was no sound but the {other} of the wind, and yet {name} knew\n"
        f"that something waited in the dark beneath the {place}.\n\n"
        f'"Who is there?" cried {name}, but only the {dread} answered.'
    )


def write_tiny_corpus(root: Path, stories: int = 240, passages: int = 160, seed: int = 0) -> Path:
    """Write tinystories/stories.txt and gutenberg/horror_gothic/*.txt under `root`."""
    rng = random.Random(seed)
    tiny = root / "tinystories"
    tiny.mkdir(parents=True, exist_ok=True)
    with (tiny / "stories.txt").open("w", encoding="utf-8") as handle:
        for _ in range(stories):
            handle.write(children_story(rng) + "\n<|endoftext|>\n")
    books = root / "gutenberg" / "horror_gothic"
    books.mkdir(parents=True, exist_ok=True)
    for book in range(2):
        body = "\n\n".join(gothic_passage(rng) for _ in range(passages // 2))
        (books / f"tiny_book_{book}.txt").write_text(body + "\n", encoding="utf-8")
    return root


TINY_CONFIG = {
    "data": {"passage_chars": 600, "validation_share": 0.1, "moderation_level": "teen"},
    "tokenizer": {"vocab_size": 300, "min_frequency": 2},
    "model": {"embed_dim": 48, "hidden_dim": 48, "num_layers": 1, "dropout": 0.0},
    "batch": {"batch_size": 8, "seq_len": 32},
    "train": {
        "max_steps": 700,
        "lr": 0.01,
        "min_lr_ratio": 0.5,
        "warmup_steps": 10,
        "eval_every": 350,
        "checkpoint_every": 350,
        "log_every": 20,
        "threads": 1,
        "precision": "fp32",
        "seed": 7,
    },
    "eval": {"validation_docs": 20},
}
