"""Helpers for the service and HTTP client tests: real servers on loopback, slowed or gated
models, metric parsing. (No tests here.)"""

from __future__ import annotations

import re
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import torch

from generators.inference.registry import ModelRegistry
from generators.moderation import Moderator
from generators.service import create_app
from generators.service.live import LiveServer
from generators.service.settings import ServiceSection

torch.set_num_threads(1)

STORY = {
    "genre": "children",
    "turns": [{"author": "ana", "text": "Lily found a key under the old tree."}],
}
ACCEPTANCE_BODY = {
    "kind": "continue",
    "context": STORY,
    "params": {"max_tokens": 40, "n": 2, "seed": 1},
}


def body(seed: int = 1, n: int = 1, tokens: int = 30, exact: bool = True, **params) -> dict:
    """A continuation request; `exact` makes every candidate write exactly `tokens` tokens.
    Ranked by log-probability, so the batch holds exactly `n` rows per request (the `story`
    reranker samples a larger pool to choose from)."""
    sampling = {"max_tokens": tokens, "n": n, "seed": seed, "rerank": "logprob", **params}
    if exact:
        sampling["min_tokens"] = tokens
    return {"kind": "continue", "context": STORY, "params": sampling}


class WrappedModel:
    """Delegates to a real model; subclasses change how `run` behaves."""

    read_hidden = None
    """Not delegated: a reader would go around the wrapper's `run` (protocol.reads_hidden)."""

    def __init__(self, model):
        self.inner = model

    def run(self, ids, state=None, last_only=False):
        return self.inner.run(ids, state, last_only)

    def __getattr__(self, name):
        return getattr(self.inner, name)


class SlowModel(WrappedModel):
    """Every model call takes at least `delay_s`, so batches overlap and requests last."""

    def __init__(self, model, delay_s: float):
        super().__init__(model)
        self.delay_s = delay_s

    def run(self, ids, state=None, last_only=False):
        time.sleep(self.delay_s)
        return super().run(ids, state, last_only)


class GatedModel(WrappedModel):
    """Model calls wait until `gate` is set: the worker stays busy for as long as a test likes."""

    def __init__(self, model):
        super().__init__(model)
        self.gate = threading.Event()
        self.entered = threading.Event()

    def run(self, ids, state=None, last_only=False):
        self.entered.set()
        self.gate.wait(30)
        return super().run(ids, state, last_only)


def tiny_registry(*checkpoints: Path, wrap=None) -> ModelRegistry:
    registry = ModelRegistry("cpu")
    for index, path in enumerate(checkpoints):
        served = registry.load(path, model_id="tiny" if index == 0 else f"tiny-{index}")
        if wrap is not None:
            served.checkpoint.model = wrap(served.checkpoint.model)
    return registry


@contextmanager
def running_service(checkpoint: Path, *, registry=None, moderator=None, latent=None, **settings):
    """The real app under uvicorn on a free loopback port; yields the LiveServer. No sentence
    VAE unless `latent` (LatentTools) is given."""
    section = ServiceSection(
        checkpoints=[checkpoint],
        threads=1,
        **{"vae_checkpoint": None, **settings},
    )
    app = create_app(
        section,
        registry=registry or tiny_registry(checkpoint),
        moderator=moderator or Moderator(use_classifier=False),
        latent=latent,
    )
    with LiveServer(app) as server:
        yield server


def metric(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text (0 when absent)."""
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    pattern = re.compile(rf"^{re.escape(name)}(?:{{(.*)}})? (\S+)$", re.M)
    for found_labels, value in pattern.findall(text):
        have = ",".join(sorted(p for p in found_labels.split(",") if p))
        if have == wanted:
            return float(value)
    return 0.0
