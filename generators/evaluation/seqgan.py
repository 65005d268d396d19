"""The measurements that decide where SeqGAN is used.

- Oracle report: NLL-oracle after MLE pretraining and after adversarial training, next to the
  paper's figures.
- Quality-diversity across temperatures (Caccia et al. 2020, "Language GANs Falling Short"):
  for the MLE generator and the SeqGAN generator, BLEU-4 of samples against validation
  sentences vs self-BLEU-4 of the samples, and the NLL of samples under a separately trained
  reference LSTM vs the NLL of validation sentences under the (tempered) generator. SeqGAN
  earns its keep only if it lies beyond the curve that the MLE model traces with temperature.
- The discriminator as a reranker: does its pick have lower reference NLL than a random pick?
"""

from __future__ import annotations

import itertools
import json
import math
import random
import shutil
import statistics
import tomllib
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file

from generators.checkpoint import load_checkpoint, save_checkpoint
from generators.inference.seqgan_rerank import discriminator_reranker
from generators.models.lstm import LSTMLanguageModel
from generators.models.seqgan import Discriminator, SequenceSpec, sample_sequences
from generators.schemas import Candidate, GenerateRequest
from generators.text.bleu import ReferenceIndex, words
from generators.text.tokenizer import TextTokenizer
from generators.train.cards import seqgan_card
from generators.train.seqgan import (
    AdversarialConfig,
    SeqGANData,
    load_generator,
    oracle_data,
    pretrain_generator,
    story_data,
)
from generators.train.seqgan_data import decode_sentences, mean_nll, row_nll

DEFAULT_TEMPERATURE = 0.8
REFERENCE_ROLE = (
    "the reference model of the SeqGAN comparison: it scores samples of both generators, "
    "so it differs from them in seed and size"
)


# ---------------------------------------------------------------------------------------------
# Oracle


TEMPERED_MLE = (1.0, 0.95, 0.9, 0.85, 0.8)
REPLICATE_SEED = 23
"""A second, independent draw of samples for both generators: the size of the noise."""
"""Temperatures at which the oracle report samples the MLE generator (Caccia et al.'s check)."""


def oracle_report(run_dir: Path, tempered_samples: int = 10000) -> dict[str, Any]:
    """NLL-oracle before and after adversarial training, the paper's, the floor (the oracle's
    own entropy rate, the NLL-oracle of a perfect generator), and the MLE generator that
    SeqGAN started from sampled at lower temperatures: lowering the temperature alone also
    lowers NLL-oracle, so SeqGAN's gain is weighed against that."""
    summary = json.loads((run_dir / "summary.json").read_text())
    config = json.loads((run_dir / "run.json").read_text())["config"]
    data = oracle_data(config, run_dir)
    mle = summary["pretrained"]["nll_oracle"]
    seqgan = summary["adversarial"]["nll_oracle"]
    start = AdversarialConfig.from_dict(config.get("adversarial", {})).start_from
    generator = load_generator(run_dir / "mle" / "best")
    if start == "last":
        generator.load_state_dict(load_file(str(run_dir / "mle" / "last" / "model.safetensors")))
    seqgan_model = load_generator(run_dir / "seqgan")
    replicate: dict[str, Any] = {"seed": REPLICATE_SEED, "samples": tempered_samples}
    for name, model in (("mle", generator), ("seqgan", seqgan_model)):
        replicate[name] = _nll_oracle_with_se(data, model, tempered_samples, REPLICATE_SEED)
    difference = replicate["mle"]["mean"] - replicate["seqgan"]["mean"]
    spread = math.hypot(replicate["mle"]["se"], replicate["seqgan"]["se"])
    replicate["improvement"] = difference
    replicate["improvement_se"] = spread
    tempered = []
    for temperature in TEMPERED_MLE:
        rng = torch.Generator().manual_seed(17)
        sampled = sample_sequences(generator, tempered_samples, data.spec, temperature, rng)
        tempered.append(
            {
                "temperature": temperature,
                "nll_oracle": mean_nll(data.the_oracle(), sampled, data.spec),
                "nll_test": mean_nll(generator, data.validation, data.spec, temperature),
            }
        )
    adversarial = config.get("adversarial", {})
    return {
        "run": run_dir.name,
        "policy_gradient": {
            "baseline": adversarial.get("baseline", "mean"),
            "batch_size": adversarial.get("batch_size"),
            "num_rollouts": adversarial.get("num_rollouts"),
            "g_lr": adversarial.get("g_lr"),
        },
        "nll_oracle_mle": mle,
        "nll_oracle_seqgan": seqgan,
        "improvement": mle - seqgan,
        "oracle_entropy": mean_nll(data.the_oracle(), data.validation, data.spec),
        "nll_test_mle": summary["pretrained"]["val_nll"],
        "nll_test_seqgan": summary["adversarial"]["val_nll"],
        "paper": summary["paper"],
        "paper_improvement": summary["paper"]["mle"] - summary["paper"]["seqgan"],
        "rounds": summary["rounds"],
        "start_from": start,
        "tempered_mle": tempered,
        "replicate": replicate,
        "target_met": seqgan < mle,
    }


def _nll_oracle_with_se(
    data: SeqGANData, model: LSTMLanguageModel, samples: int, seed: int
) -> dict[str, float]:
    """NLL-oracle of fresh samples, with the standard error of its mean over sequences."""
    sampled = sample_sequences(model, samples, data.spec, 1.0, torch.Generator().manual_seed(seed))
    sums, counts = row_nll(data.the_oracle(), sampled, data.spec)
    per_sequence = (sums[0] / counts.clamp_min(1.0)).tolist()
    mean, se = _mean_se(per_sequence)
    return {"mean": mean, "se": se}


def format_oracle_report(report: dict[str, Any]) -> str:
    paper = report["paper"]
    lines = [
        "NLL-oracle (nats/token)     this run   paper (Yu et al. 2017)",
        f"after MLE pretraining       {report['nll_oracle_mle']:8.3f}   {paper['mle']:8.3f}",
        f"after adversarial training  {report['nll_oracle_seqgan']:8.3f}   {paper['seqgan']:8.3f}",
        f"improvement                 {report['improvement']:8.3f}   "
        f"{report['paper_improvement']:8.3f}",
        f"oracle entropy rate (floor) {report['oracle_entropy']:8.3f}",
        f"NLL-test (held-out oracle data under the generator): "
        f"{report['nll_test_mle']:.3f} -> {report['nll_test_seqgan']:.3f}",
        f"target (adversarial < MLE): {'met' if report['target_met'] else 'NOT met'}",
    ]
    if report.get("replicate"):
        rep = report["replicate"]
        lines.append(
            f"replicate ({rep['samples']} fresh samples each, seed {rep['seed']}): MLE "
            f"{rep['mle']['mean']:.3f} +- {rep['mle']['se']:.3f}, SeqGAN "
            f"{rep['seqgan']['mean']:.3f} +- {rep['seqgan']['se']:.3f}; improvement "
            f"{rep['improvement']:.3f} +- {rep['improvement_se']:.3f}"
        )
    if report.get("tempered_mle"):
        lines.append("the MLE generator at lower temperatures (no adversarial training):")
        lines += [
            f"  T={row['temperature']:<5g} NLL-oracle {row['nll_oracle']:.3f}   "
            f"NLL-test {row['nll_test']:.3f}"
            for row in report["tempered_mle"]
        ]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Quality and diversity


@dataclass
class QDPoint:
    model: str
    temperature: float
    bleu4: float
    bleu4_se: float
    self_bleu4: float
    nll_samples_ref: float
    nll_samples_ref_se: float
    nll_validation: float
    mean_tokens: float


def _mean_se(values: Sequence[float]) -> tuple[float, float]:
    return statistics.fmean(values), statistics.stdev(values) / math.sqrt(len(values))


def quality_diversity(
    generators: dict[str, LSTMLanguageModel],
    reference: LSTMLanguageModel,
    tokenizer: TextTokenizer,
    validation: torch.Tensor,
    spec: SequenceSpec,
    temperatures: Sequence[float],
    samples: int,
    seed: int,
) -> list[QDPoint]:
    """One point per generator and temperature (pure temperature sampling, as in Caccia et
    al.; the serving sampler's top-p and repetition rules would move every point alike)."""
    references = [words(t) for t in decode_sentences(validation, tokenizer)]
    index = ReferenceIndex(references)
    points = []
    for m, (name, model) in enumerate(generators.items()):
        val_sums, val_counts = row_nll(model, validation, spec, temperatures)
        for i, temperature in enumerate(temperatures):
            rng = torch.Generator().manual_seed(seed * 1000 + m * 100 + i)
            sampled = sample_sequences(model, samples, spec, temperature, rng)
            texts = decode_sentences(sampled, tokenizer)
            hypotheses = [words(t) for t in texts]
            bleu, bleu_se = _mean_se([index.sentence_bleu(h) for h in hypotheses])
            own = ReferenceIndex(hypotheses)
            self_bleu = statistics.fmean(
                own.sentence_bleu(h, exclude=j) for j, h in enumerate(hypotheses)
            )
            sums, counts = row_nll(reference, sampled, spec)
            nll, nll_se = _mean_se((sums[0] / counts.clamp_min(1.0)).tolist())
            points.append(
                QDPoint(
                    model=name,
                    temperature=temperature,
                    bleu4=bleu,
                    bleu4_se=bleu_se,
                    self_bleu4=self_bleu,
                    nll_samples_ref=nll,
                    nll_samples_ref_se=nll_se,
                    nll_validation=float(val_sums[i].sum() / val_counts.sum()),
                    mean_tokens=float(counts.mean()),
                )
            )
    return points


def frontier_gap(
    points: list[QDPoint], model: str, baseline: str, x: str, y: str, higher_is_better: bool
) -> list[dict[str, float]]:
    """For each point of `model`, how much better its quality `y` is than the `baseline`'s
    temperature curve at the same diversity `x` (linear interpolation between the baseline's
    temperatures <= 1, where lowering the temperature trades diversity for quality); positive
    means beyond the baseline's curve. Points outside the curve's range are left out."""
    curve = sorted(
        (
            (getattr(p, x), getattr(p, y))
            for p in points
            if p.model == baseline and p.temperature <= 1.0
        ),
    )
    gaps = []
    for p in (p for p in points if p.model == model):
        px = getattr(p, x)
        for (x0, y0), (x1, y1) in itertools.pairwise(curve):
            if x0 <= px <= x1:
                at = y0 + (y1 - y0) * (px - x0) / (x1 - x0) if x1 > x0 else y0
                gap = getattr(p, y) - at if higher_is_better else at - getattr(p, y)
                gaps.append({"temperature": p.temperature, "gap": gap})
                break
    return gaps


def plot_quality_diversity(points: list[QDPoint], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(12, 5))
    panels = [
        (
            "self_bleu4",
            "bleu4",
            "self-BLEU-4 of samples (lower: more diverse)",
            "BLEU-4 vs validation sentences (higher: better)",
        ),
        (
            "nll_validation",
            "nll_samples_ref",
            "NLL of validation sentences under the generator (lower: covers the data)",
            "NLL of samples under the reference LSTM (lower: better)",
        ),
    ]
    for ax, (x, y, xlabel, ylabel) in zip(axes, panels, strict=True):
        for model, marker in (("mle", "o"), ("seqgan", "s")):
            mine = sorted((p for p in points if p.model == model), key=lambda p: p.temperature)
            if not mine:
                continue
            ax.plot(
                [getattr(p, x) for p in mine],
                [getattr(p, y) for p in mine],
                marker=marker,
                label=model.upper() if model == "mle" else "SeqGAN",
            )
            for p in mine:
                ax.annotate(
                    f"{p.temperature:g}",
                    (getattr(p, x), getattr(p, y)),
                    fontsize=7,
                    xytext=(3, 3),
                    textcoords="offset points",
                    weight="bold" if p.temperature == DEFAULT_TEMPERATURE else "normal",
                )
        ax.set_xlabel(xlabel, fontsize=9)
        ax.set_ylabel(ylabel, fontsize=9)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle("Quality vs diversity across sampling temperatures (labels: temperature)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


# ---------------------------------------------------------------------------------------------
# Reranking


def sign_test(wins: int, losses: int) -> float:
    """Two-sided exact binomial p-value of `wins` vs `losses` under a fair coin (ties dropped)."""
    n = wins + losses
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, k) for k in range(min(wins, losses) + 1)) / 2**n
    return min(1.0, 2 * tail)


def rerank_trials(
    generator: LSTMLanguageModel,
    discriminator: Discriminator,
    reference: LSTMLanguageModel,
    tokenizer: TextTokenizer,
    spec: SequenceSpec,
    trials: int,
    candidates: int,
    temperature: float,
    seed: int,
) -> dict[str, Any]:
    """`trials` groups of `candidates` sentences: the discriminator reranker's pick against a
    random pick, judged by per-token NLL under the reference model (lower is better)."""
    rng = torch.Generator().manual_seed(seed)
    sampled = sample_sequences(generator, trials * candidates, spec, temperature, rng)
    texts = decode_sentences(sampled, tokenizer)
    rows = []
    for text in texts:
        ids = [*tokenizer.encode(text)[: spec.seq_len - 1], spec.end_id]
        rows.append(ids + [spec.pad_id] * (spec.seq_len - len(ids)))
    sums, counts = row_nll(reference, torch.tensor(rows), spec)
    nll = (sums[0] / counts.clamp_min(1.0)).tolist()
    rerank = discriminator_reranker(discriminator, tokenizer)
    request = GenerateRequest()
    pick_rng = random.Random(seed)
    wins = losses = ties = 0
    chosen_nll, random_nll, mean_nll_all, chosen_tokens, all_tokens = [], [], [], [], []
    for trial in range(trials):
        group = range(trial * candidates, (trial + 1) * candidates)
        scores = rerank(request, [Candidate(text=texts[i], score=0.0) for i in group])
        best = group[max(range(candidates), key=scores.__getitem__)]
        other = group[pick_rng.randrange(candidates)]
        chosen_nll.append(nll[best])
        random_nll.append(nll[other])
        mean_nll_all.append(statistics.fmean(nll[i] for i in group))
        chosen_tokens.append(float(counts[best]))
        all_tokens.extend(float(counts[i]) for i in group)
        if nll[best] < nll[other]:
            wins += 1
        elif nll[best] > nll[other]:
            losses += 1
        else:
            ties += 1
    return {
        "trials": trials,
        "candidates": candidates,
        "temperature": temperature,
        "wins": wins,
        "losses": losses,
        "ties": ties,
        "sign_test_p": sign_test(wins, losses),
        "nll_chosen": statistics.fmean(chosen_nll),
        "nll_random": statistics.fmean(random_nll),
        "nll_candidates_mean": statistics.fmean(mean_nll_all),
        "tokens_chosen": statistics.fmean(chosen_tokens),
        "tokens_candidates": statistics.fmean(all_tokens),
    }


# ---------------------------------------------------------------------------------------------
# The story comparison, end to end


def load_run_config(run_dir: Path) -> dict[str, Any]:
    return json.loads((run_dir / "run.json").read_text())["config"]


def reference_model(config: dict[str, Any], run_dir: Path, data) -> LSTMLanguageModel:
    """The reference LSTM (config section [reference]: model and pretrain), trained on the
    same sentences under `run_dir/reference`, resuming if it was started."""
    ref = config["reference"]
    ref_config = {"generator": ref["model"], "pretrain": ref["pretrain"]}
    return pretrain_generator(ref_config, data, run_dir, True, "reference", REFERENCE_ROLE)


def compare_story(run_dir: Path, config_path: Path | None = None) -> dict[str, Any]:
    """Quality-diversity points and rerank trials for a finished story run; writes
    `comparison.json` and `quality_diversity.png` into `run_dir`."""
    config = tomllib.loads(config_path.read_text()) if config_path else load_run_config(run_dir)
    torch.set_num_threads(config.get("adversarial", {}).get("threads", 1))
    data = story_data(config, run_dir, None)
    compare = config.get("compare", {})
    seed = compare.get("seed", 0)
    tokenizer = data.story_tokenizer()
    reference = reference_model(config, run_dir, data)
    mle = load_checkpoint(run_dir / "mle" / "best").model_as(LSTMLanguageModel).float()
    seqgan_ckpt = load_checkpoint(run_dir / "seqgan")
    seqgan = seqgan_ckpt.model_as(LSTMLanguageModel).float()
    discriminator = seqgan_ckpt.model_as(Discriminator, "discriminator").float()
    validation = data.validation[: compare.get("validation_sentences", 3000)]
    temperatures = compare.get("temperatures", [0.5, 0.7, 0.8, 0.9, 1.0, 1.2, 1.5])
    if DEFAULT_TEMPERATURE not in temperatures:
        raise ValueError(f"[compare] temperatures must include {DEFAULT_TEMPERATURE}")
    points = quality_diversity(
        {"mle": mle, "seqgan": seqgan},
        reference,
        tokenizer,
        validation,
        data.spec,
        temperatures,
        compare.get("samples", 500),
        seed,
    )
    rerank = {
        name: rerank_trials(
            model,
            discriminator,
            reference,
            tokenizer,
            data.spec,
            compare.get("rerank_trials", 300),
            compare.get("rerank_candidates", 8),
            DEFAULT_TEMPERATURE,
            seed + 1,
        )
        for name, model in (("seqgan", seqgan), ("mle", mle))
    }
    result = {
        "points": [asdict(p) for p in points],
        "gaps": {
            "bleu": frontier_gap(points, "seqgan", "mle", "self_bleu4", "bleu4", True),
            "nll": frontier_gap(
                points, "seqgan", "mle", "nll_validation", "nll_samples_ref", False
            ),
        },
        "rerank": rerank,
        "reference": {
            "validation_nll": mean_nll(reference, validation, data.spec),
            "model": reference.config.to_dict(),
        },
    }
    result["decision"] = default_decision(points, result["gaps"])
    (run_dir / "comparison.json").write_text(json.dumps(result, indent=2) + "\n")
    plot_quality_diversity(points, run_dir / "quality_diversity.png")
    return result


def _at(points: list[QDPoint], model: str, temperature: float) -> QDPoint:
    return next(p for p in points if p.model == model and p.temperature == temperature)


def default_decision(points: list[QDPoint], gaps: dict[str, list[dict]]) -> dict[str, Any]:
    """SeqGAN becomes the default only if, at the default temperature, it is better than the MLE
    model in quality (both measures) without losing diversity (both measures)."""
    mle, gan = _at(points, "mle", DEFAULT_TEMPERATURE), _at(points, "seqgan", DEFAULT_TEMPERATURE)
    quality = gan.bleu4 > mle.bleu4 and gan.nll_samples_ref < mle.nll_samples_ref
    diversity = gan.self_bleu4 <= mle.self_bleu4 and gan.nll_validation <= mle.nll_validation
    beyond = [g["gap"] for kind in gaps.values() for g in kind]
    return {
        "seqgan_default": quality and diversity,
        "better_quality_at_default": quality,
        "kept_diversity_at_default": diversity,
        "frontier_gaps": beyond,
    }


def comparison_markdown(result: dict[str, Any], oracles: Sequence[dict[str, Any]] = ()) -> str:
    """The card section: tables, the verdict and the honest sentence."""
    points = [QDPoint(**p) for p in result["points"]]
    lines = [
        "## Quality and diversity: SeqGAN vs the same generator before adversarial training\n",
        "Both generators start from the same MLE-pretrained sentence LSTM (the MLE baseline is "
        "that checkpoint, unchanged), so the comparison isolates the adversarial phase. Samples "
        "by pure temperature sampling; BLEU-4 (NLTK smoothing 1) against validation sentences; "
        "NLL in nats per token; the reference LSTM differs in seed and size. Plot: "
        "`quality_diversity.png`.\n",
        "| model | T | BLEU-4 | self-BLEU-4 | NLL samples (ref) | NLL validation | tokens |",
        "|---|---|---|---|---|---|---|",
    ]
    for p in points:
        lines.append(
            f"| {p.model} | {p.temperature:g} | {p.bleu4:.4f} ± {p.bleu4_se:.4f} | "
            f"{p.self_bleu4:.4f} | {p.nll_samples_ref:.3f} ± {p.nll_samples_ref_se:.3f} | "
            f"{p.nll_validation:.3f} | {p.mean_tokens:.1f} |"
        )
    lines.append("")
    gaps = result["gaps"]
    for kind, label in (
        ("bleu", "BLEU-4 at equal self-BLEU-4"),
        ("nll", "reference NLL at equal validation NLL (nats)"),
    ):
        shown = ", ".join(f"T={g['temperature']:g}: {g['gap']:+.4f}" for g in gaps[kind])
        lines.append(f"- SeqGAN beyond the tempered-MLE curve, {label}: {shown or 'no overlap'}")
    lines.append(f"\n{honest_sentence(result)}\n")
    decision = result["decision"]
    lines.append(
        "Default model: "
        + (
            "SeqGAN, since at T=0.8 it beats the MLE generator in quality without losing diversity."
            if decision["seqgan_default"]
            else "the MLE LSTM stays the default: at T=0.8 SeqGAN "
            + (
                "is better in quality but loses diversity."
                if decision["better_quality_at_default"]
                else "is not better in quality on both measures."
            )
            + " The SeqGAN checkpoint is served on request (and its discriminator as a reranker)."
        )
        + "\n"
    )
    lines.append("## The discriminator as a reranker\n")
    for name, r in result["rerank"].items():
        lines.append(
            f"- candidates from the {name} generator ({r['trials']} trials of {r['candidates']} "
            f"at T={r['temperature']:g}): the discriminator's pick has lower reference NLL than "
            f"a random pick in {r['wins']} trials, higher in {r['losses']} ({r['ties']} ties), "
            f"sign test p = {r['sign_test_p']:.3g}; mean NLL chosen {r['nll_chosen']:.3f}, "
            f"random {r['nll_random']:.3f} (tokens {r['tokens_chosen']:.1f} vs "
            f"{r['tokens_candidates']:.1f})"
        )
    if oracles:
        lines.append("\n## Synthetic oracle (the paper's experiment)\n")
    for report in oracles:
        pg = report.get("policy_gradient", {})
        lines.append(
            f"Run `{report.get('run', 'oracle')}`: baseline {pg.get('baseline', 'mean')}, "
            f"{pg.get('batch_size')} sequences x {pg.get('num_rollouts')} rollouts per g-step, "
            f"Adam at {pg.get('g_lr')}, {report['rounds']} rounds.\n"
        )
        lines.append("```\n" + format_oracle_report(report) + "\n```\n")
    return "\n".join(lines) + "\n"


def honest_sentence(result: dict[str, Any]) -> str:
    """Where SeqGAN sits relative to tempered MLE, from the frontier gaps and their noise."""
    points = [QDPoint(**p) for p in result["points"]]
    gaps = result["gaps"]
    noise_nll = 2 * max(p.nll_samples_ref_se for p in points)
    noise_bleu = 2 * max(p.bleu4_se for p in points)
    beyond = [g for g in gaps["nll"] if g["gap"] > noise_nll] + [
        g for g in gaps["bleu"] if g["gap"] > noise_bleu
    ]
    inside = [g for g in gaps["nll"] if g["gap"] < -noise_nll] + [
        g for g in gaps["bleu"] if g["gap"] < -noise_bleu
    ]
    if not gaps["nll"] and not gaps["bleu"]:
        return (
            "SeqGAN's points fall outside the range the MLE temperature sweep covers, so no "
            "like-for-like comparison at equal diversity is possible here."
        )
    if beyond and not inside:
        return (
            "SeqGAN lies beyond the tempered-MLE curve at some temperatures (by more than twice "
            "the standard error): here the adversarial phase bought quality that lowering the "
            "MLE model's temperature does not."
        )
    if inside and not beyond:
        return (
            "SeqGAN lies inside the tempered-MLE curve: the MLE model with a lower temperature "
            "gives better samples at the same diversity, as Caccia et al. found."
        )
    return (
        "SeqGAN sits on the tempered-MLE curve (its gaps are within twice the standard error, "
        "or go both ways): what it gains in quality it pays for in diversity, and lowering the "
        "MLE model's temperature buys the same trade, as Caccia et al. found."
    )


def publish(run_dir: Path, dest: Path, comparison: str) -> Path:
    """Copy the run's SeqGAN checkpoint to `dest` with a card that carries the comparison and
    the plots beside it."""
    loaded = load_checkpoint(run_dir / "seqgan")
    config = load_run_config(run_dir)
    summary = json.loads((run_dir / "summary.json").read_text())
    data_report = story_data(config, run_dir, None).report
    discriminator = loaded.model_as(Discriminator, "discriminator")
    card = seqgan_card(dest.name, config, summary, data_report, comparison)
    save_checkpoint(
        dest,
        loaded.model,
        family="lstm",
        model_config=loaded.config["model"],
        tokenizer=loaded.tokenizer,
        card=card,
        info={"training": config, "summary": summary, "phase": "seqgan"},
        extra_weights={
            "discriminator": ("discriminator", discriminator.config.to_dict(), discriminator)
        },
    )
    for name in ("quality_diversity.png", "loss_curve.png"):
        if (run_dir / name).exists():
            shutil.copy2(run_dir / name, dest / name)
    return dest
