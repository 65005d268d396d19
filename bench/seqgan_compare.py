"""SeqGAN's figures: the oracle experiment, quality vs diversity against tempered MLE, and the
discriminator as a reranker. Reads finished runs; trains the story comparison's reference LSTM
first if the run folder lacks it (resumable).

    python bench/seqgan_compare.py --oracle runs/seqgan-oracle [runs/seqgan-oracle-nb ...] \
        --story runs/seqgan-story [--publish generators/checkpoints/seqgan] [--recompute]

A story run's comparison is computed once and kept in its `comparison.json`; `--recompute`
computes it again.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from generators.evaluation.seqgan import (
    compare_story,
    comparison_markdown,
    format_oracle_report,
    honest_sentence,
    oracle_report,
    publish,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--oracle", type=Path, nargs="+", help="finished oracle run folders")
    parser.add_argument("--story", type=Path, help="a finished story run folder")
    parser.add_argument("--config", type=Path, help="story config (default: the run's own)")
    parser.add_argument("--publish", type=Path, help="write the servable checkpoint here")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--recompute", action="store_true", help="ignore comparison.json")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    torch.set_num_threads(args.threads)
    oracles = []
    for run in args.oracle or []:
        report = oracle_report(run)
        oracles.append(report)
        print(f"{run}:\n{format_oracle_report(report)}\n")
        (run / "oracle_report.json").write_text(json.dumps(report, indent=2) + "\n")
    if args.story:
        kept = args.story / "comparison.json"
        if kept.exists() and not args.recompute:
            result = json.loads(kept.read_text())
        else:
            result = compare_story(args.story, args.config)
        print()
        print(f"{'model':7} {'T':>4} {'BLEU-4':>7} {'selfBLEU':>8} {'NLLref':>7} {'NLLval':>7}")
        for p in result["points"]:
            print(
                f"{p['model']:7} {p['temperature']:4g} {p['bleu4']:7.4f} {p['self_bleu4']:8.4f} "
                f"{p['nll_samples_ref']:7.3f} {p['nll_validation']:7.3f}"
            )
        print(json.dumps(result["gaps"], indent=1))
        print(honest_sentence(result))
        for name, r in result["rerank"].items():
            print(
                f"rerank ({name} candidates): {r['wins']} wins, {r['losses']} losses, "
                f"{r['ties']} ties of {r['trials']}; p={r['sign_test_p']:.3g}; NLL chosen "
                f"{r['nll_chosen']:.3f} vs random {r['nll_random']:.3f}"
            )
        print("SeqGAN default:", result["decision"]["seqgan_default"])
        print(f"plot: {args.story / 'quality_diversity.png'}")
        if args.publish:
            folder = publish(args.story, args.publish, comparison_markdown(result, oracles))
            size = sum(f.stat().st_size for f in folder.iterdir())
            print(f"published {folder} ({size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
