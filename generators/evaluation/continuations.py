"""The story-continuation benchmark: does the served model's next turn follow *this* story?

Each validation document (never training text) is cut at a sentence boundary about 55% in.
The part before the cut becomes a story's turns (one turn per paragraph, hard-wrapped lines
joined, as a person would type them); the two sentences after it are the true continuation.
The model continues the story exactly the way the bot asks it to (the same request, prompt
building, sampling, reranking and moderation, through `InProcessGenerator`), and each measure
is reported per genre group (`children`: TinyStories, `books`: the Gutenberg prose) beside the
true continuation's and a shuffled baseline (the true continuation of another document):

- content overlap: share of the continuation's content words that the story already used;
- name reuse / new names: continuations that mention one of the story's names / that bring in
  a capitalised name the story never wrote;
- parroting: share of the continuation's word 4-grams already in the story;
- truth overlap: content words shared with the true next sentences (Jaccard), the one text
  measure that asks whether the turn goes where the story went, not only where it has been;
- context gain: bits/char of the true continuation given the story, given another document's
  story, and given nothing (the model's use of the story, free of sampling);
- next-sentence ranking: how often the served scorer puts the true next sentence above four
  next sentences of other documents (chance 20%);
- passage ranking (with a passage index): how often it puts the true next two sentences above
  the passages retrieved for the same moment, the choice the served ranking actually faces
  (chance: one in one more than the passages found, reported beside it);
- variety (distinct-2, seq-rep-4) and control: the genre classifier's and the mood judge's
  verdict on continuations asked for the story's genre and for a random mood. The true
  continuations' variety and the genre classifier's verdict on them are reported beside the
  served turns': what text a person wrote scores on the same measures.
"""

from __future__ import annotations

import asyncio
import random
import re
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generators.evaluation.bits_per_char import LN2
from generators.evaluation.language_model import distinct_n, seq_rep_n
from generators.evaluation.story_fit import (
    content_overlap,
    content_words,
    mentioned,
    new_names,
    parroting,
    story_names,
)
from generators.inference.continuation_scoring import continuation_logprobs
from generators.inference.prompts import build_prompt
from generators.schemas import (
    MOODS,
    GenerateRequest,
    GenerationParams,
    Kind,
    StoryContext,
    TurnContext,
)
from generators.text.corpus import (
    MIN_DOCUMENT_CHARS,
    Document,
    iter_raw_documents,
    split_of,
)
from generators.text.markup import split_paragraphs
from generators.text.mood import mood_of
from generators.text.normalize import normalize_text
from generators.text.sentences import split_sentences

_LINE_BREAK = re.compile(r"\s*\n\s*")
CUT_SHARE = 0.55
TRUTH_SENTENCES = 2
CONTEXT_TURNS = 50
DISTRACTORS = 4
SAMPLE_STORY_CHARS = 1500
"""How much of each story the report keeps beside its continuations (for a blind reader)."""
GROUPS = ("children", "books")


def group_of(genre: str) -> str | None:
    """`children` for TinyStories, `books` for prose from the books; poetry is left out (a
    poem's next line is not a story's next turn)."""
    if genre == "children":
        return "children"
    if genre == "poetry":
        return None
    return "books"


@dataclass(frozen=True)
class Item:
    """One validation document cut into a story so far and its true continuation."""

    genre: str
    group: str
    mood: str
    turns: tuple[str, ...]
    truth: str
    source: str = ""
    """The corpus file the document came from (a book's passages share one)."""

    @property
    def story(self) -> str:
        return "\n".join(self.turns)


def cut_document(text: str, share: float = CUT_SHARE) -> tuple[list[str], str] | None:
    """(turns before the cut, the next `TRUTH_SENTENCES` sentences), cutting at the sentence
    boundary nearest `share` of the text; None when the document is too short to cut."""
    paragraphs, _ = split_paragraphs(text)
    sentences: list[tuple[int, str]] = []
    for index, paragraph in enumerate(paragraphs):
        flat = _LINE_BREAK.sub(" ", paragraph)
        sentences += [(index, s) for s in split_sentences(flat)]
    if len(sentences) < 4:
        return None
    total = sum(len(s) for _, s in sentences)
    target = share * total
    best, seen = 1, 0
    best_gap = float("inf")
    for position in range(len(sentences) - TRUTH_SENTENCES):
        seen += len(sentences[position][1])
        gap = abs(seen - target)
        if position >= 1 and gap < best_gap:
            best, best_gap = position + 1, gap
    before, after = sentences[:best], sentences[best : best + TRUTH_SENTENCES]
    turns: list[str] = []
    last = -1
    for index, sentence in before:
        if index != last:
            turns.append(sentence)
            last = index
        else:
            turns[-1] += " " + sentence
    return turns, " ".join(s for _, s in after)


def validation_items(documents: Sequence[Document], per_group: int, seed: int = 0) -> list[Item]:
    """`per_group` items of each group from validation documents, chosen reproducibly."""
    rng = random.Random(seed)
    by_group: dict[str, list[Document]] = {g: [] for g in GROUPS}
    for doc in documents:
        group = group_of(doc.genre)
        if doc.split == "validation" and group is not None:
            by_group[group].append(doc)
    items: list[Item] = []
    for group in GROUPS:
        pool = list(by_group[group])
        rng.shuffle(pool)
        chosen = 0
        for doc in pool:
            if chosen >= per_group:
                break
            cut = cut_document(doc.text)
            if cut is None:
                continue
            turns, truth = cut
            items.append(Item(doc.genre, group, doc.mood, tuple(turns), truth, doc.source))
            chosen += 1
    return items


def validation_documents(data_dir: Path) -> list[Document]:
    """The validation documents of the corpus, as `build_corpus` makes them (normalized, long
    enough, deduplicated, split by hash), without labelling the training part's moods."""
    documents = []
    seen: set[str] = set()
    for raw, genre, source in iter_raw_documents(data_dir):
        text = normalize_text(raw)
        if len(text) < MIN_DOCUMENT_CHARS or text in seen:
            continue
        seen.add(text)
        if split_of(text) == "validation":
            documents.append(Document(text, genre, source, mood_of(text), "validation"))
    return documents


def load_items(data_dir: Path, per_group: int, seed: int = 0) -> list[Item]:
    return validation_items(validation_documents(data_dir), per_group, seed)


def continue_request(
    item: Item,
    seed: int,
    mood: str | None = None,
    params: dict[str, Any] | None = None,
    kind: Kind = "continue",
) -> GenerateRequest:
    """The request the bot sends for `/story continue` on this story (engine defaults), or for
    another `kind` of turn (`/story twist`)."""
    context = StoryContext(
        genre=item.genre,
        mood=mood if mood is not None else item.mood,
        turns=[TurnContext(text=t[-4000:]) for t in item.turns[-CONTEXT_TURNS:]],
    )
    defaults = {"max_tokens": 70, "temperature": 0.8, "top_p": 0.95, "repetition_penalty": 1.1}
    values = {**defaults, "n": 3, "seed": seed, **(params or {})}
    return GenerateRequest(kind=kind, context=context, params=GenerationParams(**values))


@dataclass
class Generated:
    item: Item
    text: str
    mood_asked: str | None = None
    origin: str = "model"
    """Where the served turn came from (`retrieved`: a recast corpus passage)."""

    def sample(self) -> dict[str, Any]:
        """The served turn beside the story's end and the true text, as a blind reader and the
        benchmarks' JSON reports show it."""
        return {
            "group": self.item.group,
            "genre": self.item.genre,
            "story_end": self.item.story[-SAMPLE_STORY_CHARS:],
            "model": self.text,
            "origin": self.origin,
            "true": self.item.truth,
        }


def generate_continuations(
    generator,
    items: Sequence[Item],
    seed: int,
    params: dict[str, Any] | None = None,
    moods: Sequence[str | None] | None = None,
    progress: Callable[[int, int], None] | None = None,
    kind: Kind = "continue",
) -> list[Generated]:
    """The served answer to a continue request (or one of another `kind`) for each item, one
    at a time, as a user asks."""
    moods = list(moods) if moods is not None else [None] * len(items)

    async def run() -> list[Generated]:
        out = []
        for index, (item, mood) in enumerate(zip(items, moods, strict=True)):
            request = continue_request(item, seed + index, mood, params, kind)
            response = await generator.generate(request)
            origin = response.candidates[0].origin if response.candidates else "model"
            out.append(Generated(item, response.text, mood, origin))
            if progress:
                progress(index + 1, len(items))
        return out

    return asyncio.run(run())


def _other(items: Sequence[Item], index: int, rng: random.Random) -> Item:
    """Another item of the same group (the shuffled baseline), or of any group when the
    group has no other."""
    same = [j for j, it in enumerate(items) if it.group == items[index].group and j != index]
    others = same or [j for j in range(len(items)) if j != index] or [index]
    return items[rng.choice(others)]


def text_measures(continuation: str, item: Item) -> dict[str, float]:
    known = story_names(item.story)
    said, truth = content_words(continuation), content_words(item.truth)
    return {
        "truth_overlap": len(said & truth) / max(len(said | truth), 1),
        "content_overlap": content_overlap(continuation, item.story),
        "name_reuse": float(bool(mentioned(continuation, known))),
        "new_name": float(bool(new_names(continuation, known, item.story))),
        "parroting_4": parroting(continuation, item.story),
    }


def context_gain(served, items: Sequence[Item], seed: int) -> dict[str, dict[str, float]]:
    """Bits/char of each true continuation given its story, another story, and nothing."""
    rng = random.Random(seed)
    tok = served.tokenizer
    conditions = {"story": [], "other_story": [], "nothing": []}
    for index, item in enumerate(items):
        other = _other(items, index, rng)
        truth = tok.encode(item.truth)
        for name, source in (("story", item), ("other_story", other), ("nothing", None)):
            context = StoryContext(
                genre=item.genre,
                mood=item.mood,
                turns=[
                    TurnContext(text=t) for t in (source.turns if source else ())[-CONTEXT_TURNS:]
                ],
            )
            prompt = build_prompt(tok, "continue", context).ids
            conditions[name].append((item.group, prompt, truth, len(item.truth)))
    out: dict[str, dict[str, float]] = {g: {} for g in GROUPS}
    for name, rows in conditions.items():
        scores = continuation_logprobs(served.model, [(p, t) for _, p, t, _ in rows], tok.pad_id)
        for group in GROUPS:
            nats = -sum(s.logprob for s, r in zip(scores, rows, strict=True) if r[0] == group)
            chars = sum(r[3] for r in rows if r[0] == group)
            if chars:
                out[group][f"bpc_given_{name}"] = nats / LN2 / chars
    for group in GROUPS:
        values = out[group]
        if values:
            values["context_gain"] = values["bpc_given_nothing"] - values["bpc_given_story"]
    return out


def next_sentence_ranking(
    score: Callable[[Item, list[str]], list[float]], items: Sequence[Item], seed: int
) -> dict[str, float]:
    """Share of items whose true next sentence the scorer puts above `DISTRACTORS` next
    sentences of other documents of the same group (fewer where the group has fewer)."""
    rng = random.Random(seed + 1)
    hits: dict[str, list[bool]] = {g: [] for g in GROUPS}
    for index, item in enumerate(items):
        true_next = split_sentences(item.truth)[0]
        pool = sorted(
            {
                split_sentences(other.truth)[0]
                for j, other in enumerate(items)
                if j != index and other.group == item.group
            }
            - {true_next}
        )
        if not pool:
            continue
        candidates = [true_next, *rng.sample(pool, min(DISTRACTORS, len(pool)))]
        scores = score(item, candidates)
        hits[item.group].append(max(range(len(scores)), key=scores.__getitem__) == 0)
    return {g: sum(h) / len(h) for g, h in hits.items() if h}


def passage_ranking(
    score: Callable[[Item, list[str]], list[float]],
    find: Callable[[GenerateRequest], list[str]],
    items: Sequence[Item],
    seed: int,
) -> dict[str, dict[str, float]]:
    """Per group: the share of items whose true continuation the scorer puts above every
    passage `find` offers for the item's continue request, and that share by chance (items
    with no passage are left out)."""
    hits: dict[str, list[bool]] = {g: [] for g in GROUPS}
    chance: dict[str, list[float]] = {g: [] for g in GROUPS}
    for index, item in enumerate(items):
        passages = [p for p in find(continue_request(item, seed + index)) if p != item.truth]
        if not passages:
            continue
        scores = score(item, [item.truth, *passages])
        hits[item.group].append(max(range(len(scores)), key=scores.__getitem__) == 0)
        chance[item.group].append(1 / len(scores))
    return {
        g: {
            "passage_ranking": statistics.fmean(h),
            "passage_ranking_chance": statistics.fmean(chance[g]),
        }
        for g, h in hits.items()
        if h
    }


@dataclass
class Report:
    groups: dict[str, dict[str, float]] = field(default_factory=dict)
    samples: list[dict[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"groups": self.groups, "samples": self.samples}


def summarize(
    generated: Sequence[Generated], items: Sequence[Item], seed: int
) -> dict[str, dict[str, float]]:
    """Text measures of the model, the true text and the shuffled baseline, per group."""
    rng = random.Random(seed)
    rows: dict[str, dict[str, list[float]]] = {g: {} for g in GROUPS}
    for index, (gen, item) in enumerate(zip(generated, items, strict=True)):
        other = _other(items, index, rng)
        for who, text in (("model", gen.text), ("true", item.truth), ("shuffled", other.truth)):
            for key, value in text_measures(text, item).items():
                rows[item.group].setdefault(f"{who}_{key}", []).append(value)
    out: dict[str, dict[str, float]] = {}
    for group, values in rows.items():
        if not values:
            continue
        out[group] = {k: statistics.fmean(v) for k, v in values.items()}
        texts = [g.text for g in generated if g.item.group == group]
        truths = [g.item.truth for g in generated if g.item.group == group]
        out[group]["model_distinct_2"] = distinct_n(texts, 2)
        out[group]["model_seq_rep_4"] = seq_rep_n(texts, 4)
        out[group]["true_distinct_2"] = distinct_n(truths, 2)
        out[group]["true_seq_rep_4"] = seq_rep_n(truths, 4)
        origins = [g.origin for g in generated if g.item.group == group]
        out[group]["model_retrieved_share"] = origins.count("retrieved") / max(len(origins), 1)
        out[group]["items"] = float(len(texts))
    return out


def mood_control(generated: Sequence[Generated]) -> dict[str, float]:
    """Share of continuations asked for a mood that the lexicon judge files under it."""
    asked = [g for g in generated if g.mood_asked]
    hits = [mood_of(g.text) == g.mood_asked for g in asked]
    return {"mood_control_accuracy": sum(hits) / max(len(hits), 1), "mood_items": len(hits)}


def random_moods(count: int, seed: int) -> list[str]:
    rng = random.Random(seed + 2)
    return [rng.choice(MOODS) for _ in range(count)]


def served_scorer(
    served, rerank: str, topic_fit: Callable[[GenerateRequest], Callable[[str], float]] | None
) -> Callable[[Item, list[str]], list[float]]:
    """What the served reranker thinks of texts as this item's next turn (higher first);
    `topic_fit` as the engine's passage index gives it, where one is loaded."""
    from generators.inference.story_rerank import story_scores

    def score(item: Item, texts: list[str]) -> list[float]:
        request = continue_request(item, seed=0)
        if rerank == "story":
            fit = topic_fit(request) if topic_fit else None
            return story_scores(served, request, texts, topic_fit=fit)
        tok = served.tokenizer
        prompt = build_prompt(tok, "continue", request.context).ids
        pairs = [(prompt, tok.encode(t)) for t in texts]
        return [s.mean for s in continuation_logprobs(served.model, pairs, tok.pad_id)]

    return score


def genre_control(generated: Sequence[Generated], classifier) -> dict[str, float]:
    """Share of continuations the genre classifier files under their story's genre, beside
    its share of the true continuations: the judge reads two sentences of a book, and files
    many a true one under another book genre, so that share is the most a turn can expect."""
    hits = [classifier.predict(g.text) == g.item.genre for g in generated]
    true_hits = [classifier.predict(g.item.truth) == g.item.genre for g in generated]
    return {
        "genre_control_accuracy": sum(hits) / max(len(hits), 1),
        "genre_control_true_accuracy": sum(true_hits) / max(len(true_hits), 1),
    }


def run_benchmark(
    checkpoint: Path,
    data_dir: Path,
    *,
    per_group: int = 30,
    seed: int = 0,
    vae: Path | None = None,
    retrieval_index: Path | None = None,
    params: dict[str, Any] | None = None,
    mood_items: int = 20,
    progress: Callable[[str, int, int], None] | None = None,
) -> dict[str, Any]:
    """Every measure of the module docstring for one checkpoint, served as the bot serves it.

    With a passage index, a book passage never retrieves from its own book: the index holds
    that book's other (training) passages, whose people and places the held-out books the
    benchmark stands for would not share."""
    from generators.client import InProcessGenerator
    from generators.evaluation.language_model import train_genre_classifier
    from generators.moderation import Moderator

    items = load_items(data_dir, per_group, seed)
    generator = InProcessGenerator.from_checkpoints(
        [checkpoint],
        moderator=Moderator(use_classifier=False),
        vae=vae,
        retrieval_index=retrieval_index,
    )
    if generator.engine.retrieval is not None:
        books = {item.story[-500:]: item.source for item in items if item.group == "books"}
        generator.engine.retrieval.exclude = lambda request: books.get(
            "\n".join(t.text for t in request.context.turns)[-500:]
        )
    served = generator.registry.get(None)
    rerank = (params or {}).get("rerank") or GenerationParams().rerank

    def step(stage: str) -> Callable[[int, int], None] | None:
        report = progress
        return (lambda done, total: report(stage, done, total)) if report else None

    generated = generate_continuations(generator, items, seed, params, progress=step("continue"))
    groups = summarize(generated, items, seed)
    for group, values in context_gain(served, items, seed).items():
        groups.setdefault(group, {}).update(values)
    retrieval = generator.engine.retrieval
    scorer = served_scorer(served, rerank, retrieval.topic_fit if retrieval else None)
    for group, value in next_sentence_ranking(scorer, items, seed).items():
        groups[group]["next_sentence_ranking"] = value
    if retrieval is not None:

        def passages(request: GenerateRequest) -> list[str]:
            return [r.text for r in retrieval.find(request)]

        for group, values in passage_ranking(scorer, passages, items, seed).items():
            groups[group].update(values)
    mood_subset = items[:: max(1, len(items) // max(mood_items, 1))][:mood_items]
    moods = random_moods(len(mood_subset), seed)
    mooded = generate_continuations(
        generator, mood_subset, seed + 10_000, params, moods, progress=step("mood")
    )
    control = {**mood_control(mooded), **genre_control(generated, train_genre_classifier(data_dir))}
    return {
        "model": served.id,
        "rerank": rerank,
        "params": params or {},
        "groups": groups,
        "control": control,
        "samples": [g.sample() for g in generated],
        "mood_samples": mood_samples(mooded),
    }


def mood_samples(mooded: Sequence[Generated]) -> list[dict[str, Any]]:
    """Continuations asked for a mood, with the story's end: a blind reader judges both the
    mood they read in and whether they still follow the story."""
    return [{"mood_asked": g.mood_asked, **g.sample()} for g in mooded]
