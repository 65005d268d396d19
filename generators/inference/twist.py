"""Plot twists: a sentence from a part of latent space the story has not been, then the LSTM.

The engine plans twists this way only where no passage index serves the story: with one, a
twist is a corpus passage that opens with a turn of events competing with the model's own
twists (`generators.retrieval.source`). Blind readers of validation stories' twists kept those
over this planner's 219 times of 228 (`bench/turns.py --kind twist`, seeds 0 and 1, two readers).

1. The story's recent sentences are encoded; their mean is the story's centroid.
2. Latents are drawn from the prior (seeded by the request seed and the attempt, so a reroll
   gets different ones); the lowest-norm ones are dropped (the prior's mode decodes to bland,
   generic sentences), and of the rest those farthest from the centroid are kept.
3. Each is decoded into a twist sentence; names the story has never used are replaced by the
   characters in play, most recently mentioned first.
4. The LSTM continues the paragraph after the story, the `<|twist|>` token and the sentence.
   Beside these, the LSTM writes as many twists of its own from the same prompt, so a latent
   that decodes into something clumsy competes with, rather than replaces, the fluent option.
5. Moderation drops what it blocks; the rest (both sources) is ranked by
   coherence + SURPRISE_WEIGHT * surprise + names, where coherence is the LSTM's mean token
   log-prob of the whole twist given the story (nats), surprise the latent distance of the
   twist from the centroid, and names NAME_BONUS if a character in play is mentioned minus
   FOREIGN_PENALTY for each name that is neither the story's nor common in the genre.
   When characters are in play, twists that name one of them come first, provided their
   coherence is within COHERENCE_MARGIN of the most coherent candidate's: a twist happens to the
   story's people (the decoded ones always can, after step 3), but a garbled one does not win
   for naming them.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import torch

from generators.checkpoint import LoadedCheckpoint, load_checkpoint
from generators.inference.pipeline import moderate_candidates, sampling_settings
from generators.inference.prompts import Prompt, build_prompt, render_output
from generators.inference.sampling import sample, sample_after
from generators.inference.style import StyleEncoder, latent_distance
from generators.schemas import Candidate, GenerateRequest, StoryContext
from generators.text.names import mentioned_names
from generators.text.sentences import split_sentences

SURPRISE_WEIGHT = 1.0
"""Chosen on the validation split with bench/vae_targets.py (`--surprise-weights`, 80 stories,
the bundled VAE): the chosen twist's mean latent distance from the story was 2.87, 2.97, 3.05
and 3.13 at weights 0.5, 1, 2 and 3 (ordinary continuations 2.78), farther than the
continuation in 48%, 55%, 61% and 63% of stories, at a coherence of -2.35, -2.42, -2.52 and
-2.69 nats per token. At 0.5 (the choice for the VAE at 2,400 steps) the better-trained VAE's
twists were no farther than continuations; 1 makes them so for 0.07 nats per token."""
NAME_BONUS = 1.0
COHERENCE_MARGIN = 1.5
"""Nats per token a twist naming a character in play may trail the most coherent candidate by
and still come first."""
FOREIGN_PENALTY = 1.0


@dataclass(frozen=True)
class TwistSettings:
    pool_factor: int = 4
    low_norm_share: float = 0.25
    context_sentences: int = 8
    decode_temperature: float = 0.7
    prompt_budget: int = 384
    surprise_weight: float = SURPRISE_WEIGHT
    coherence_margin: float = COHERENCE_MARGIN


@dataclass(frozen=True)
class StoryNames:
    """The characters in play (most recently mentioned first), every name the story uses, and
    the names common in its genre."""

    in_play: tuple[str, ...]
    story: frozenset[str]
    genre: frozenset[str]


def story_names(context: StoryContext, lexicon: dict[str, list[str]]) -> StoryNames:
    characters = [c.name for c in context.characters]
    text = "\n".join(t.text for t in context.turns)
    mentioned = mentioned_names(text, [w for c in characters for w in c.split()], lexicon)
    last_seen = {name: text.rfind(name) for name in characters}
    in_play = sorted(characters, key=lambda name: -last_seen[name])
    if not in_play:
        in_play = sorted(mentioned, key=lambda name: -text.rfind(name))
    words = {w.casefold() for name in characters for w in name.split()}
    words |= {m.casefold() for m in mentioned}
    genre = frozenset(w.casefold() for w in lexicon.get(context.genre, []))
    return StoryNames(tuple(in_play), frozenset(words), genre)


def foreign_names(text: str, names: StoryNames, lexicon: dict[str, list[str]]) -> list[str]:
    """Names in `text` that are neither the story's nor common in its genre."""
    found = mentioned_names(text, names.story, lexicon)
    return [n for n in found if n.casefold() not in names.story | names.genre]


def mentions_in_play(text: str, names: StoryNames) -> bool:
    return any(re.search(rf"\b{re.escape(name)}\b", text) for name in names.in_play)


def name_score(text: str, names: StoryNames, lexicon: dict[str, list[str]]) -> float:
    """NAME_BONUS for mentioning a character in play, minus FOREIGN_PENALTY per foreign name."""
    bonus = NAME_BONUS if mentions_in_play(text, names) else 0.0
    return bonus - FOREIGN_PENALTY * len(foreign_names(text, names, lexicon))


def recast_names(sentence: str, names: StoryNames, lexicon: dict[str, list[str]]) -> str:
    """Replace names the story has not used by the characters in play, in order of recency."""
    if not names.in_play:
        return sentence
    strangers = [
        n
        for n in mentioned_names(sentence, names.story, lexicon)
        if n.casefold() not in names.story
    ]
    for index, stranger in enumerate(strangers):
        replacement = names.in_play[index % len(names.in_play)]
        sentence = re.sub(rf"\b{re.escape(stranger)}\b", replacement, sentence)
    return sentence


def recent_sentences(context: StoryContext, limit: int) -> list[str]:
    sentences = [s for turn in context.turns for s in split_sentences(turn.text)]
    if not sentences and context.premise:
        sentences = split_sentences(context.premise)
    return sentences[-limit:]


def choose_latents(
    centroid: torch.Tensor,
    count: int,
    pool_factor: int,
    low_norm_share: float,
    generator: torch.Generator,
) -> torch.Tensor:
    """`count` prior samples far from `centroid`, after dropping the lowest-norm share."""
    pool = torch.randn(count * pool_factor, centroid.numel(), generator=generator)
    norms = pool.norm(dim=1)
    keep = norms >= torch.quantile(norms, low_norm_share)
    pool = pool[keep]
    distance = (pool - centroid).norm(dim=1)
    return pool[distance.argsort(descending=True)[:count]]


def led_candidates(
    served,
    prompt: Prompt,
    kind: str,
    genre: str,
    sentences: Sequence[str],
    request: GenerateRequest,
    seed: int,
) -> list[Candidate]:
    """Each sentence continued by the language model after `prompt` (unmoderated), scored by
    the mean token log-prob of the whole text, sentence included, given the prompt."""
    if not sentences:
        return []
    base_settings = sampling_settings(request)
    ids_of = [served.tokenizer.encode(s) for s in sentences]
    written = sample_after(
        served.model,
        served.tables,
        prompt.ids,
        ids_of,
        [
            replace(
                base_settings,
                max_tokens=max(8, base_settings.max_tokens - len(ids)),
                min_tokens=min(base_settings.min_tokens, 4),
            )
            for ids in ids_of
        ],
        prompt.stop,
        [seed + index for index in range(len(sentences))],
        list(sentences),
    )
    candidates = []
    for sentence, ids, seq in zip(sentences, ids_of, written, strict=True):
        tokens = len(ids) + len(seq.tokens)
        candidates.append(
            Candidate(
                text=render_output(kind, seq.text or sentence, genre),
                score=round((seq.opening_logprob + seq.logprob) / max(tokens, 1), 4),
                tokens=tokens,
            )
        )
    return candidates


class TwistPlanner:
    """Writes `twist` candidates for a request from a worker thread (torch, no event loop)."""

    def __init__(
        self,
        vae: Path | str | LoadedCheckpoint,
        moderator=None,
        settings: TwistSettings | None = None,
    ):
        loaded = vae if isinstance(vae, LoadedCheckpoint) else load_checkpoint(vae)
        self.encoder = StyleEncoder(loaded)
        self.model = self.encoder.model
        self.tokenizer = self.encoder.tokenizer
        self.lexicon: dict[str, list[str]] = loaded.config.get("names", {})
        self.moderator = moderator
        self.settings = settings or TwistSettings()

    def centroid(self, context: StoryContext) -> torch.Tensor:
        """Mean posterior mean of the story's recent sentences (the prior's mean if none)."""
        sentences = recent_sentences(context, self.settings.context_sentences)
        if not sentences:
            return torch.zeros(self.encoder.latent_dim)
        return self.encoder.sentence_vectors(sentences).mean(dim=0)

    def twist_sentences(self, context: StoryContext, count: int, seed: int) -> list[str]:
        """Decoded sentences from latents far from the story, names recast to the story's."""
        generator = torch.Generator().manual_seed(seed)
        z = choose_latents(
            self.centroid(context),
            count,
            self.settings.pool_factor,
            self.settings.low_norm_share,
            generator,
        )
        return self.decode_sentences(z, context, generator)

    def decode_sentences(
        self, z: torch.Tensor, context: StoryContext, generator: torch.Generator
    ) -> list[str]:
        """One sampled sentence per latent (empty ones dropped), names the story has never used
        recast to its characters in play."""
        banned = sorted(self.tokenizer.special_ids - {self.tokenizer.eos_id})
        decoded = self.model.decode(
            z.to(self.model.embedding.weight.device),
            greedy=False,
            temperature=self.settings.decode_temperature,
            generator=generator,
            banned=banned,
        )
        names = story_names(context, self.lexicon)
        sentences = [self.tokenizer.decode(ids).strip() for ids in decoded]
        return [recast_names(s, names, self.lexicon) for s in sentences if s]

    def plan(
        self, request: GenerateRequest, served, n: int | None = None, attempt: int = 0
    ) -> list[Candidate]:
        """Up to `n` (default: the request's n) moderated twist candidates, best first, each
        with its score and latent, chosen from n decoded from latent space and n written by the
        language model alone; an empty list when moderation blocked them all."""
        count = n or request.params.n
        kept = self.candidates(request, served, count, attempt)
        return self.rank(request.context, kept)[:count] if kept else []

    def candidates(
        self, request: GenerateRequest, served, count: int, attempt: int = 0
    ) -> list[Candidate]:
        """`count` twists decoded from latent space and `count` by the language model alone,
        moderated, unranked, with their coherence (mean token log-prob) as `score`."""
        context = request.context
        base = request.params.seed
        if base is None:
            base = random.SystemRandom().randrange(2**62)
        seed = base + attempt * 7919
        twists = self.twist_sentences(context, count, seed)
        base_settings = sampling_settings(request)
        budget = served.prompt_budget(self.settings.prompt_budget, base_settings.max_tokens)
        prompt = build_prompt(served.tokenizer, "twist", context, budget)
        own = sample(
            served.model,
            served.tables,
            prompt.ids,
            base_settings,
            prompt.stop,
            n=count,
            seed=seed + count,
            prefix_text=prompt.prefix_text,
        )
        candidates = [
            Candidate(
                text=render_output("twist", seq.text, context.genre),
                score=round(seq.mean_logprob, 4),
                tokens=len(seq.tokens),
            )
            for seq in own
        ]
        candidates += led_candidates(served, prompt, "twist", context.genre, twists, request, seed)
        return moderate_candidates(candidates, self.moderator, request.moderation_level)

    def rank(
        self,
        context: StoryContext,
        candidates: list[Candidate],
        surprise_weight: float | None = None,
    ) -> list[Candidate]:
        """Fill each candidate's latent and score (coherence in `score` on entry), best first."""
        weight = self.settings.surprise_weight if surprise_weight is None else surprise_weight
        coherences = [c.score for c in candidates]
        floor = max(coherences) - self.settings.coherence_margin
        centroid = self.centroid(context).tolist()
        names = story_names(context, self.lexicon)
        vectors = self.encoder.encode([c.text for c in candidates])
        for candidate, vector in zip(candidates, vectors, strict=True):
            candidate.latent = [round(v, 5) for v in vector]
            surprise = latent_distance(vector, centroid)
            total = (
                candidate.score
                + weight * surprise
                + name_score(candidate.text, names, self.lexicon)
            )
            candidate.score = round(total, 4)
        preferred = {
            id(c)
            for c, coherence in zip(candidates, coherences, strict=True)
            if coherence >= floor and mentions_in_play(c.text, names)
        }
        return sorted(candidates, key=lambda c: (id(c) in preferred, c.score), reverse=True)
