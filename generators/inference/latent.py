"""What the sentence VAE adds to serving: plot twists, style-led candidates and the `style`
reranker, and sentence vectors.

One `LatentTools` per process, shared by the in-process generator and the HTTP service. Its VAE
stays on the CPU in float32 (4.6M parameters: encoding a turn takes milliseconds). It is only
ever read (inference, no state), so threads use it at once without a lock: a style vector for a
new turn never waits behind a twist being written.
"""

from __future__ import annotations

import logging
from pathlib import Path

from generators.checkpoint import load_checkpoint
from generators.errors import CheckpointError, NoSentenceModel
from generators.inference.pipeline import Reranker
from generators.inference.registry import ServedModel
from generators.inference.style import StyleEncoder, style_reranker
from generators.inference.style_lead import StyleLead
from generators.inference.twist import TwistPlanner
from generators.schemas import (
    Candidate,
    EmbedRequest,
    EmbedResponse,
    GenerateRequest,
    ModelInfo,
)
from generators.text.sentences import split_sentences

log = logging.getLogger("talewright.generators")


class LatentTools:
    def __init__(self, vae_checkpoint: Path | str, moderator=None) -> None:
        loaded = load_checkpoint(Path(vae_checkpoint), device="cpu")
        if loaded.family != "vae":
            raise CheckpointError(
                f"{vae_checkpoint} is a {loaded.family} checkpoint, not a sentence VAE"
            )
        self.model_id = loaded.model_id
        self.encoder = StyleEncoder(loaded)
        self.planner = TwistPlanner(loaded, moderator)
        self.lead = StyleLead(self.planner)
        self._compatible: dict[str, bool] = {}

    @property
    def latent_dim(self) -> int:
        return self.encoder.latent_dim

    def info(self) -> ModelInfo:
        checkpoint = self.encoder.checkpoint
        return ModelInfo(
            id=self.model_id,
            family="vae",
            parameters=int(checkpoint.config.get("parameters", 0)),
            vocab_size=self.encoder.tokenizer.vocab_size,
            card=checkpoint.card[:2000],
        )

    def rerankers(self) -> dict[str, Reranker]:
        """`rerank="style"`: fluency plus the lean towards the request's style vector."""
        return {"style": style_reranker(self.encoder)}

    def plans_twists_for(self, served: ServedModel) -> bool:
        """Twists need the VAE's token ids to mean the same to the language model."""
        known = self._compatible.get(served.id)
        if known is None:
            same = self.encoder.tokenizer.to_json() == served.tokenizer.to_json()
            known = self._compatible[served.id] = same
            if not known:
                log.warning(
                    "the sentence VAE %s and model %s use different tokenizers: that model's "
                    "twists come from the language model alone",
                    self.model_id,
                    served.id,
                )
        return known

    def twist(self, request: GenerateRequest, served: ServedModel, attempt: int) -> list[Candidate]:
        """Moderated twist candidates, best first (empty when moderation blocked them all).

        Each attempt, and each reroll (a new request seed, or none), decodes from different
        latents, so alternatives differ in what happens, not only in wording. Twists keep their
        own ranking even when the request asks for `rerank="style"`: pulling a twist towards
        the writer's usual sentences would work against the surprise it is chosen for."""
        return self.planner.plan(request, served, attempt=attempt)

    def leads_style(self, request: GenerateRequest, served: ServedModel) -> bool:
        """Whether this request gets style-led candidates beside the model's own."""
        return self.lead.applies(request) and self.plans_twists_for(served)

    def style_led(
        self, request: GenerateRequest, served: ServedModel, attempt: int
    ) -> list[Candidate]:
        """Moderated candidates that open with a sentence from the writer's part of latent
        space (see generators/inference/style_lead.py); new latents for each attempt and reroll.

        They only add to the model's own candidates, so if writing them fails the request is
        still answered, from those alone (and the failure is logged)."""
        try:
            return self.lead.candidates(request, served, attempt)
        except Exception:
            log.exception("style-led candidates failed; answering with the model's own")
            return []

    def embed(self, request: EmbedRequest) -> EmbedResponse:
        """The posterior mean of every sentence of every text (a text without one gets [])."""
        per_text = [split_sentences(text) for text in request.texts]
        flat = [sentence for sentences in per_text for sentence in sentences]
        vectors = self.encoder.sentence_vectors(flat).tolist() if flat else []
        result, start = [], 0
        for sentences in per_text:
            rows = vectors[start : start + len(sentences)]
            result.append([[round(v, 5) for v in row] for row in rows])
            start += len(sentences)
        return EmbedResponse(vectors=result, model=self.model_id, latent_dim=self.latent_dim)


def load_latent(path: Path | None, moderator=None) -> LatentTools | None:
    """The sentence VAE at `path`; None (twists then come from the language model alone) when
    no path is set or the folder holds no checkpoint, which is logged."""
    if path is None:
        return None
    if not (Path(path) / "config.json").is_file():
        log.warning("no sentence VAE at %s: twists use the language model alone", path)
        return None
    return LatentTools(path, moderator)


def require_latent(tools: LatentTools | None) -> LatentTools:
    if tools is None:
        raise NoSentenceModel("no sentence VAE is loaded here (the vae_checkpoint setting)")
    return tools
