"""Blind-reader pairs from a continuation benchmark report, and the reader's scores by source.

    python bench/blind_pairs.py make runs/report.json --out runs/blind    # pairs.md + key.json
    python bench/blind_pairs.py score runs/blind --answers answers.json     # scores per source

`make` writes each story's end and its two continuations (the model's and the true one) as
A and B in a seeded random order; the key stays in `key.json`, which the reader never sees.
`score` reads the reader's answers (a JSON list of {"item", "A": {"coherence", "fluency"},
"B": {...}, "keep": "A"|"B", "mood_A"?: ..., "mood_B"?: ...}) and reports mean coherence and
fluency per source and group, and how often each source was kept.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
from pathlib import Path


def make(report: Path, out: Path, seed: int) -> None:
    samples = json.loads(report.read_text())["samples"]
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    key = []
    lines = [
        "# Blind reading",
        "",
        "Each item shows the end of a story, then two candidate next turns, A and B.",
        "",
    ]
    for index, sample in enumerate(samples, start=1):
        model_first = rng.random() < 0.5
        a, b = (
            (sample["model"], sample["true"]) if model_first else (sample["true"], sample["model"])
        )
        key.append(
            {"item": index, "group": sample["group"], "A": "model" if model_first else "true"}
        )
        lines += [
            f"## Item {index}",
            "",
            "Story so far (its end):",
            "",
            *(f"> {line}" if line else ">" for line in sample["story_end"].splitlines()),
            "",
            f"A: {a}",
            "",
            f"B: {b}",
            "",
        ]
    (out / "pairs.md").write_text("\n".join(lines))
    (out / "key.json").write_text(json.dumps(key, indent=1))


def score(folder: Path, answers_path: Path) -> dict:
    key = {row["item"]: row for row in json.loads((folder / "key.json").read_text())}
    answers = json.loads(answers_path.read_text())
    rows: dict[tuple[str, str], dict[str, list[float]]] = {}
    for answer in answers:
        entry = key[int(answer["item"])]
        for slot in ("A", "B"):
            source = entry["A"] if slot == "A" else ("true" if entry["A"] == "model" else "model")
            bucket = rows.setdefault((entry["group"], source), {})
            for measure in ("coherence", "fluency"):
                bucket.setdefault(measure, []).append(float(answer[slot][measure]))
            bucket.setdefault("kept", []).append(float(answer.get("keep") == slot))
    return {
        f"{group}/{source}": {m: round(statistics.fmean(v), 3) for m, v in values.items()}
        | {"items": len(values["kept"])}
        for (group, source), values in sorted(rows.items())
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    maker = sub.add_parser("make")
    maker.add_argument("report", type=Path)
    maker.add_argument("--out", type=Path, required=True)
    maker.add_argument("--seed", type=int, default=0)
    scorer = sub.add_parser("score")
    scorer.add_argument("folder", type=Path)
    scorer.add_argument("--answers", type=Path, required=True)
    args = parser.parse_args()
    if args.command == "make":
        make(args.report, args.out, args.seed)
    else:
        print(json.dumps(score(args.folder, args.answers), indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
