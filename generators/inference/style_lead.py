"""Style-led candidates: a first sentence decoded from the writer's part of latent space.

Reranking alone can only choose among what the language model wrote, and the model follows the
story, not the writer: for a children's-story writer in a gothic tale, often none of its
candidates reads like them. So when a `continue` request asks for `rerank="style"`, latents are
drawn around the requester's style vector (the vector plus STYLE_SPREAD prior standard
deviations of noise, seeded by the request seed and the attempt, so a reroll draws new ones),
each is decoded into an opening sentence (names recast to the story's characters), and the
language model continues the paragraph from it. These compete with the model's own candidates
in the style reranker, which weighs fluency given the story against the lean towards the style.
"""

from __future__ import annotations

import random

import torch

from generators.inference.pipeline import moderate_candidates
from generators.inference.prompts import build_prompt
from generators.inference.twist import TwistPlanner, led_candidates
from generators.schemas import Candidate, GenerateRequest

STYLE_SPREAD = 0.5
"""Noise around the style vector, in prior standard deviations: enough for the decoded openings
to differ from one another, little enough that they stay the writer's. On the validation split
(bench/vae_targets.py `--style-spread`, 120 trials, style weight 2, the bundled VAE) spreads of
0.25, 0.5 and 1 chose the right writer in 82.5%, 81% and 80% of trials, at a chosen mean
log-prob of -2.52, -2.43 and -2.41: equal within the noise (about 3.6 points), so the middle."""
LEAD_KINDS = ("continue",)
"""Dialogue starts inside a quote and poems have their own form: an opening sentence decoded
from latent space fits neither."""


class StyleLead:
    """Writes style-led candidates from a worker thread (torch, no event loop)."""

    def __init__(self, planner: TwistPlanner, spread: float = STYLE_SPREAD):
        self.planner = planner
        self.spread = spread

    def applies(self, request: GenerateRequest) -> bool:
        vector = request.context.style_vector
        return (
            request.kind in LEAD_KINDS
            and request.params.rerank == "style"
            and vector is not None
            and len(vector) == self.planner.encoder.latent_dim
        )

    def candidates(self, request: GenerateRequest, served, attempt: int = 0) -> list[Candidate]:
        """`request.params.n` moderated, unranked candidates, each opening with a sentence
        decoded near the style vector; `score` is their mean token log-prob given the story."""
        assert request.context.style_vector is not None
        base = request.params.seed
        if base is None:
            base = random.SystemRandom().randrange(2**62)
        seed = base + attempt * 7919 + 104729
        generator = torch.Generator().manual_seed(seed)
        vector = torch.tensor(request.context.style_vector, dtype=torch.float32)
        count = request.params.n
        z = vector + self.spread * torch.randn(count, vector.numel(), generator=generator)
        context = request.context
        openings = self.planner.decode_sentences(z, context, generator)
        budget = served.prompt_budget(
            self.planner.settings.prompt_budget, request.params.max_tokens
        )
        prompt = build_prompt(served.tokenizer, request.kind, context, budget)
        written = led_candidates(
            served, prompt, request.kind, context.genre, openings, request, seed
        )
        return moderate_candidates(written, self.planner.moderator, request.moderation_level)
