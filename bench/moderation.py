"""Moderation throughput on one core, and quality on the labelled evaluation set.

Prints texts/second for short texts (word lists only, and with the classifier, batched and one
call per text), precision/recall per level on bench/moderation_eval.py's set, recall on the
obfuscated variants at `family`, the catch rate per level on the adversarial spellings of
generators/moderation/adversarial.py with false alarms on their clean side and the allow list,
and the false-positive rate per level on a TinyStories sample (every 20th story of
../shared/data/tinystories/stories.txt) and a books sample (every 5th paragraph of the
Gutenberg shelves), when present.
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.moderation_eval import CLEAN_SENTENCES, Example, build_eval_set, score  # noqa: E402
from generators.moderation import Moderator  # noqa: E402
from generators.moderation.adversarial import (  # noqa: E402
    adversarial_spellings,
    allow_list_sentences,
    clean_spellings,
)

TINYSTORIES = ROOT.parent / "shared" / "data" / "tinystories" / "stories.txt"
BOOKS = ROOT.parent / "shared" / "data" / "gutenberg"
LEVELS = ("family", "teen", "mature")
SHORT_TEXTS = 20_000


def pin_to_one_core() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})


def short_texts(examples: Sequence[Example]) -> list[str]:
    """Chat-sized texts: the eval set's sentences and clean story sentences, repeated."""
    pool = [e.text for e in examples] + list(CLEAN_SENTENCES) * 20
    return [pool[i % len(pool)] for i in range(SHORT_TEXTS)]


def rate(run: Callable[[], object], count: int) -> float:
    start = time.perf_counter()
    run()
    return count / (time.perf_counter() - start)


def throughput(lists_only: Moderator, with_classifier: Moderator, texts: list[str]) -> None:
    with_classifier.check_many(texts[:10])  # load the classifier outside the timing
    lists_only.check_many(texts)  # and fill the per-word cache, as a running bot would have
    single = texts[:2_000]
    runs: list[tuple[str, Callable[[], object], int]] = [
        ("word lists, check_many", lambda: lists_only.check_many(texts), len(texts)),
        ("word lists, check per text", lambda: [lists_only.check(t) for t in texts], len(texts)),
        ("+ classifier, check_many", lambda: with_classifier.check_many(texts), len(texts)),
        ("+ classifier, check per text", lambda: [with_classifier.check(t) for t in single], 2000),
    ]
    mean = sum(map(len, texts)) / len(texts)
    print(f"throughput on one core, {len(texts):,} short texts (mean {mean:.0f} chars):")
    for name, run, count in runs:
        print(f"  {name:<30} {rate(run, count):>9,.0f} texts/s")


def quality(name: str, moderator: Moderator, examples: list[Example]) -> None:
    texts = [e.text for e in examples]
    print(f"evaluation set, {name} ({len(examples):,} texts):")
    for level in LEVELS:
        verdicts = [v.verdict for v in moderator.check_many(texts, level)]
        s = score(examples, verdicts, level)
        print(
            f"  {level:<7} precision {s.precision:.4f}  recall {s.recall:.4f}  "
            f"verdict accuracy {s.verdict_accuracy:.4f}  ({s.positives} not allowed, "
            f"{s.negatives} allowed)"
        )
        if level == "family":
            family_breakdown(examples, verdicts)


def family_breakdown(examples: list[Example], verdicts: list[str]) -> None:
    pairs = list(zip(examples, verdicts, strict=True))
    for kind in ("obfuscated", "held_out", "clean"):
        flagged = [v != "allow" for e, v in pairs if e.kind.startswith(kind)]
        label = "flagged (false positives)" if kind == "clean" else "recall"
        print(
            f"          {kind:<10} {label} {sum(flagged) / len(flagged):.4f} "
            f"({sum(flagged)}/{len(flagged)})"
        )
    missed = Counter(e.kind for e, v in pairs if e.kind.startswith("obfuscated") and v == "allow")
    if missed:
        print(f"          missed obfuscations: {dict(missed)}")


def adversarial(moderator: Moderator) -> None:
    spellings = adversarial_spellings()
    clean = [s.text for s in clean_spellings()] + allow_list_sentences()
    print(f"adversarial spellings ({len(spellings):,} texts, {len(clean):,} clean), word lists:")
    for level in LEVELS:
        positives = [s for s in spellings if s.expected(level) != "allow"]
        verdicts = moderator.check_many([s.text for s in positives], level, classify=False)
        missed = Counter(
            s.technique for s, v in zip(positives, verdicts, strict=True) if v.verdict == "allow"
        )
        alarms = sum(v.verdict != "allow" for v in moderator.check_many(clean, level))
        caught = 1 - sum(missed.values()) / len(positives)
        print(
            f"  {level:<7} caught {caught:.4f} ({len(positives) - sum(missed.values())}"
            f"/{len(positives)})  false alarms {alarms}/{len(clean)}"
            + (f"  missed {dict(missed)}" if missed else "")
        )


def corpus_false_positives(moderator: Moderator) -> None:
    """Flagged texts per level on the TinyStories and books samples, word lists only."""
    samples: dict[str, list[str]] = {}
    if TINYSTORIES.is_file():
        records = re.split(r"^<\|endoftext\|>$", TINYSTORIES.read_text("utf-8"), flags=re.M)
        samples["TinyStories"] = [r.strip() for r in records if r.strip()][::20]
    if BOOKS.is_dir():
        samples["books"] = [
            p
            for book in sorted(BOOKS.rglob("*.txt"))
            for p in [p for p in re.split(r"\n\s*\n", book.read_text("utf-8")) if p.strip()][::5]
        ]
    if not samples:
        print("corpus samples: skipped, ../shared/data is absent")
    for name, texts in samples.items():
        flagged = {
            level: sum(
                v.verdict != "allow" for v in moderator.check_many(texts, level, classify=False)
            )
            for level in LEVELS
        }
        print(
            f"{name} sample ({len(texts):,} texts), word lists, flagged: "
            + ", ".join(f"{level} {n} ({n / len(texts):.2%})" for level, n in flagged.items())
        )


def tinystories_false_positives(name: str, moderator: Moderator) -> None:
    if not TINYSTORIES.is_file():
        print(f"TinyStories sample: skipped, {TINYSTORIES} is absent")
        return
    records = re.split(r"^<\|endoftext\|>$", TINYSTORIES.read_text(encoding="utf-8"), flags=re.M)
    stories = [r.strip() for r in records if r.strip()]
    sample = [s for i, s in enumerate(stories) if i % 20 == 0]
    verdicts = moderator.check_many(sample, "family")
    flagged = [v for v in verdicts if v.verdict != "allow"]
    terms = Counter(s.term for v in flagged for s in v.spans)
    terms["(classifier only)"] = sum(not v.spans for v in flagged)
    terms = +terms
    print(
        f"TinyStories sample at family, {name}: {len(flagged)}/{len(sample)} stories flagged "
        f"= {len(flagged) / len(sample):.2%} false positives"
        + (f"; matched {dict(terms)}" if terms else "")
    )


def main() -> None:
    pin_to_one_core()
    lists_only = Moderator(use_classifier=False)
    with_classifier = Moderator()
    if not with_classifier.uses_classifier:
        print("classifier unavailable: the 'with classifier' figures are word lists only")
    examples = build_eval_set()
    throughput(lists_only, with_classifier, short_texts(examples))
    for name, moderator in (("word lists", lists_only), ("with classifier", with_classifier)):
        quality(name, moderator, examples)
    for name, moderator in (("word lists", lists_only), ("with classifier", with_classifier)):
        tinystories_false_positives(name, moderator)
    adversarial(lists_only)
    corpus_false_positives(lists_only)


if __name__ == "__main__":
    main()
