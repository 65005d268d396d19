"""The sentence VAE's targets (issue 7), measured on the corpus's validation split.

1. Latent use and likelihood: KL per sentence, active units, mutual information, and the
   importance-weighted NLL next to the LSTM language model's NLL on the same sentences.
2. Style matching: two writers (children's-story sentences and horror_gothic sentences; each
   writer's vector = mean latent of 50 of their sentences). Every prompt (the opening of a
   validation document of any prose genre) is continued as the service does it for that
   writer: n LSTM candidates plus n style-led ones (generators/inference/style_lead.py),
   style-reranked; a trial succeeds when the chosen candidate's latent is closer to that writer's
   vector than to the other's. The unranked choice (the first LSTM candidate) is the same for both
   writers, so it succeeds in exactly one of each pair: 50% by construction.
3. Twists: distance in latent space between the story's recent sentences (their centroid) and
   the best twist candidate, next to the best ordinary continuation of the same story; and how
   often each mentions a character in play.

Run with `nice -n 10`; one CPU thread. `--card DEST` bundles the VAE as a checkpoint folder at
DEST with these figures in its card.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from generators.checkpoint import load_checkpoint, save_checkpoint  # noqa: E402
from generators.evaluation.vae import evaluate_vae  # noqa: E402
from generators.inference.pipeline import prepare, rerank, to_candidates  # noqa: E402
from generators.inference.registry import ModelRegistry  # noqa: E402
from generators.inference.sampling import sample  # noqa: E402
from generators.inference.style import STYLE_WEIGHT, latent_distance, style_reranker  # noqa: E402
from generators.inference.style_lead import STYLE_SPREAD, StyleLead  # noqa: E402
from generators.inference.twist import SURPRISE_WEIGHT, TwistPlanner, mentions_in_play, story_names  # noqa: E402
from generators.schemas import (  # noqa: E402
    Candidate,
    CharacterSheet,
    GenerateRequest,
    GenerationParams,
    StoryContext,
    TurnContext,
)
from generators.text.corpus import Document, load_documents  # noqa: E402
from generators.text.markup import split_paragraphs  # noqa: E402
from generators.text.names import mentioned_names  # noqa: E402
from generators.text.sentences import split_sentences  # noqa: E402
from generators.train.vae import figures_section  # noqa: E402

PROSE = (
    "children",
    "fairy_tales",
    "fantasy_adventure",
    "horror_gothic",
    "mystery",
    "science_fiction",
)


def validation_sentences(
    docs: list[Document], limit: int, seed: int
) -> tuple[list[str], list[str]]:
    pairs = [(s, d.genre) for d in docs for s in split_sentences(d.text)]
    pairs = random.Random(seed).sample(pairs, min(limit, len(pairs)))
    return [p[0] for p in pairs], [p[1] for p in pairs]


def opening(doc: Document, max_words: int = 90) -> list[str]:
    """The first paragraphs of a document, up to about `max_words` words, as story turns."""
    paragraphs, _ = split_paragraphs(doc.text)
    turns, words = [], 0
    for paragraph in paragraphs:
        paragraph = " ".join(paragraph.split())
        if not paragraph:
            continue
        if words and words + len(paragraph.split()) > max_words:
            break
        turns.append(paragraph)
        words += len(paragraph.split())
    return turns


def context_of(doc: Document, lexicon: dict[str, list[str]]) -> StoryContext:
    turns = opening(doc)
    names = mentioned_names(" ".join(turns), [], lexicon)[:2]
    return StoryContext(
        genre=doc.genre,
        turns=[TurnContext(text=t[:4000]) for t in turns],
        characters=[CharacterSheet(name=n) for n in names],
    )


def quartiles(values: list[float]) -> dict[str, float]:
    q1, median, q3 = statistics.quantiles(values, n=4)
    return {"mean": statistics.fmean(values), "median": median, "q1": q1, "q3": q3}


def style_trials(
    lead: StyleLead,
    served,
    docs: list[Document],
    prompts: int,
    n: int,
    seed: int,
    writer_sentences: int = 50,
    weights: tuple[float, ...] = (STYLE_WEIGHT,),
) -> dict[str, Any]:
    """Style matching at each reranker weight, as served: the model's n candidates plus n
    style-led ones per writer, reranked. Reports the share of trials won, the mean log-prob per
    token of the chosen candidate (what the weight costs in fluency), how often the choice was
    style-led, and the same share when only the model's own candidates are reranked. The first
    weight's figures are also reported under the plain keys."""
    encoder = lead.planner.encoder
    rng = random.Random(seed)
    children = [d for d in docs if d.genre == "children"]
    gothic = [d for d in docs if d.genre == "horror_gothic"]
    writers = {}
    for name, pool in (("children", children), ("horror_gothic", gothic)):
        sentences = [s for d in pool for s in split_sentences(d.text) if len(s.split()) >= 4]
        chosen = rng.sample(sentences, min(writer_sentences, len(sentences)))
        writers[name] = torch.tensor(encoder.encode(chosen)).mean(dim=0).tolist()
    prose = [d for d in docs if d.genre in PROSE and opening(d)]
    rerankers = {weight: {"style": style_reranker(encoder, weight)} for weight in weights}
    wins = dict.fromkeys(weights, 0)
    own_wins = dict.fromkeys(weights, 0)
    led_chosen = dict.fromkeys(weights, 0)
    fluency: dict[float, list[float]] = {weight: [] for weight in weights}
    unranked_fluency: list[float] = []
    unranked_wins = trials = 0
    for index, doc in enumerate(rng.sample(prose, min(prompts, len(prose)))):
        request = GenerateRequest(
            context=StoryContext(
                genre=doc.genre, turns=[TurnContext(text=t[:4000]) for t in opening(doc)]
            ),
            params=GenerationParams(n=n, seed=seed * 1000 + index, rerank="style"),
        )
        prepared = prepare(request, served.tokenizer, 384)
        sequences = sample(
            served.model,
            served.tables,
            prepared.prompt.ids,
            prepared.settings,
            prepared.prompt.stop,
            n=n,
            seed=prepared.seeds[0],
        )
        own = [c for c in to_candidates(prepared, sequences) if c.text.strip()]
        if len(own) < 2:
            continue
        first = own[0]
        for vector_latent, candidate in zip(
            encoder.encode([c.text for c in own]), own, strict=True
        ):
            candidate.latent = vector_latent
        first_right = {}
        for name, vector in writers.items():
            other = writers["horror_gothic" if name == "children" else "children"]
            styled = request.model_copy(deep=True)
            styled.context.style_vector = vector
            led = lead.candidates(styled, served)
            pool = [*own, *led]
            logprob = {id(c): c.score for c in pool}

            def right(candidate: Candidate, vector=vector, other=other) -> bool:
                return latent_distance(candidate.latent, vector) < latent_distance(
                    candidate.latent, other
                )

            for weight in weights:
                for candidates, tally in ((pool, wins), (own, own_wins)):
                    copies = [c.model_copy() for c in candidates]
                    source = {id(copy): id(c) for copy, c in zip(copies, candidates, strict=True)}
                    best = rerank(styled, copies, rerankers[weight])[0]
                    tally[weight] += right(best)
                    if candidates is pool:
                        fluency[weight].append(logprob[source[id(best)]])
                        led_chosen[weight] += source[id(best)] not in {id(c) for c in own}
            first_right[name] = right(first)
            unranked_fluency.append(first.score)
            trials += 1
        unranked_wins += sum(first_right.values())
    share = {weight: wins[weight] / max(trials, 1) for weight in weights}
    return {
        "style_trials": trials,
        "style_candidates": n,
        "style_weight": weights[0],
        "style_spread": lead.spread,
        "style_ranked_right_share": share[weights[0]],
        "style_own_only_right_share": own_wins[weights[0]] / max(trials, 1),
        "style_led_chosen_share": led_chosen[weights[0]] / max(trials, 1),
        "style_unranked_right_share": unranked_wins / max(trials, 1),
        "style_writer_distance": latent_distance(writers["children"], writers["horror_gothic"]),
        "style_unranked_logprob": statistics.fmean(unranked_fluency),
        "style_chosen_logprob": statistics.fmean(fluency[weights[0]]),
        "style_sweep": [
            {
                "weight": weight,
                "right_share": share[weight],
                "own_only_right_share": own_wins[weight] / max(trials, 1),
                "led_chosen_share": led_chosen[weight] / max(trials, 1),
                "chosen_logprob": statistics.fmean(fluency[weight]),
            }
            for weight in weights
        ],
    }


def twist_trials(
    planner: TwistPlanner,
    served,
    docs: list[Document],
    stories: int,
    n: int,
    seed: int,
    weights: tuple[float, ...] = (SURPRISE_WEIGHT,),
) -> dict[str, Any]:
    """Latent distance from the story's recent sentences (their centroid) of the chosen twist and
    of the chosen ordinary continuation, at each surprise weight on the same twist candidates;
    the first weight's figures are also reported under the plain keys."""
    rng = random.Random(seed + 1)
    prose = [d for d in docs if d.genre in PROSE and opening(d)]
    twist_d: dict[float, list[float]] = {weight: [] for weight in weights}
    coherence: dict[float, list[float]] = {weight: [] for weight in weights}
    named = dict.fromkeys(weights, 0)
    plain_d: list[float] = []
    plain_names = with_characters = 0
    for index, doc in enumerate(rng.sample(prose, min(stories, len(prose)))):
        context = context_of(doc, planner.lexicon)
        centroid = planner.centroid(context).tolist()
        params = GenerationParams(n=n, seed=seed * 1000 + index)
        request = GenerateRequest(kind="twist", context=context, params=params)
        pool = planner.candidates(request, served, n)
        plain_request = GenerateRequest(kind="continue", context=context, params=params)
        prepared = prepare(plain_request, served.tokenizer, 384)
        sequences = sample(
            served.model,
            served.tables,
            prepared.prompt.ids,
            prepared.settings,
            prepared.prompt.stop,
            n=n,
            seed=prepared.seeds[0],
        )
        plain = rerank(
            plain_request, [c for c in to_candidates(prepared, sequences) if c.text.strip()], {}
        )
        if not pool or not plain:
            continue
        (plain_vector,) = planner.encoder.encode([plain[0].text])
        plain_d.append(latent_distance(plain_vector, centroid))
        names = story_names(context, planner.lexicon)
        if context.characters:
            with_characters += 1
            plain_names += mentions_in_play(plain[0].text, names)
        fluency = {c.text: c.score for c in pool}
        for weight in weights:
            best = planner.rank(context, [c.model_copy() for c in pool], weight)[0]
            twist_d[weight].append(latent_distance(best.latent, centroid))
            coherence[weight].append(fluency[best.text])
            if context.characters:
                named[weight] += mentions_in_play(best.text, names)
    first = weights[0]
    twist_q, plain_q = quartiles(twist_d[first]), quartiles(plain_d)

    def farther(weight: float) -> float:
        pairs = zip(twist_d[weight], plain_d, strict=True)
        return sum(t > p for t, p in pairs) / len(plain_d)

    return {
        "twist_stories": len(plain_d),
        "twist_surprise_weight": first,
        **{f"twist_distance_{k}": v for k, v in twist_q.items()},
        **{f"continue_distance_{k}": v for k, v in plain_q.items()},
        "twist_farther_share": farther(first),
        "stories_with_characters": with_characters,
        "twist_names_character_share": named[first] / max(with_characters, 1),
        "continue_names_character_share": plain_names / max(with_characters, 1),
        "twist_sweep": [
            {
                "surprise_weight": weight,
                "distance_mean": statistics.fmean(twist_d[weight]),
                "farther_share": farther(weight),
                "coherence": statistics.fmean(coherence[weight]),
            }
            for weight in weights
        ],
    }


def bundle(vae: Path, dest: Path, figures: dict[str, Any]) -> None:
    """Copy the VAE checkpoint to `dest` (id = folder name) with the figures in its card."""
    loaded = load_checkpoint(vae)
    card = loaded.card.split("## Measured targets")[0].rstrip() + "\n\n" + figures_section(figures)
    card = card.replace(f"# {loaded.path.name}: ", f"# {dest.name}: ", 1)
    info = {k: loaded.config[k] for k in ("training", "validation", "names") if k in loaded.config}
    save_checkpoint(
        dest,
        loaded.model,
        family="vae",
        model_config=loaded.config["model"],
        tokenizer=loaded.tokenizer,
        card=card,
        info=info,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--vae", type=Path, default=ROOT / "runs" / "vae-default" / "best")
    parser.add_argument("--lm", type=Path, default=ROOT / "runs" / "lstm-default" / "best")
    parser.add_argument(
        "--documents", type=Path, default=ROOT / "runs" / "vae-default" / "documents.jsonl"
    )
    parser.add_argument("--sentences", type=int, default=2000)
    parser.add_argument("--iw-sentences", type=int, default=300)
    parser.add_argument("--iw-samples", type=int, default=100)
    parser.add_argument("--style-prompts", type=int, default=60)
    parser.add_argument("--twist-stories", type=int, default=40)
    parser.add_argument("--n", type=int, default=8)
    parser.add_argument(
        "--surprise-weights",
        type=float,
        nargs="+",
        default=[SURPRISE_WEIGHT],
        help="twist ranking surprise weights to compare (the first is the one reported)",
    )
    parser.add_argument(
        "--style-weights",
        type=float,
        nargs="+",
        default=[STYLE_WEIGHT],
        help="reranker weights to compare (the first is the one reported as the target)",
    )
    parser.add_argument(
        "--style-spread",
        type=float,
        default=STYLE_SPREAD,
        help="noise around the writer's vector for style-led openings (prior standard deviations)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip", nargs="*", default=[], choices=["likelihood", "style", "twist"])
    parser.add_argument("--json", type=Path)
    parser.add_argument("--card", type=Path, help="bundle the VAE here with the figures")
    args = parser.parse_args()
    torch.set_num_threads(1)
    docs = [d for d in load_documents(args.documents) if d.split == "validation"]
    lm = ModelRegistry().load(args.lm)
    lm_step = lm.checkpoint.config.get("validation", {}).get("step")
    figures: dict[str, Any] = {"vae": str(args.vae), "lm": str(args.lm), "lm_step": lm_step}
    started = time.perf_counter()
    if "likelihood" not in args.skip:
        texts, genres = validation_sentences(docs, args.sentences, args.seed)
        result = evaluate_vae(
            args.vae, texts, genres, args.lm, args.iw_samples, args.iw_sentences, args.seed
        )
        print("interpolation:\n  " + "\n  ".join(result.pop("interpolation")))
        figures.update(
            {k: v for k, v in result.items() if k not in ("checkpoint", "lm_checkpoint")}
        )
        print(json.dumps(figures, indent=1), flush=True)
    planner = TwistPlanner(args.vae)
    if "style" not in args.skip:
        figures.update(
            style_trials(
                StyleLead(planner, args.style_spread),
                lm,
                docs,
                args.style_prompts,
                args.n,
                args.seed,
                weights=tuple(args.style_weights),
            )
        )
        print(json.dumps(figures, indent=1), flush=True)
    if "twist" not in args.skip:
        figures.update(
            twist_trials(
                planner,
                lm,
                docs,
                args.twist_stories,
                4,
                args.seed,
                weights=tuple(args.surprise_weights),
            )
        )
    figures["bench_seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(figures, indent=1))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1) + "\n")
    if args.card:
        bundle(args.vae, args.card, figures)


if __name__ == "__main__":
    main()
