"""Model families. Each is registered by name so checkpoints can say which class to build."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from torch import nn

ModelBuilder = Callable[[dict[str, Any]], nn.Module]


def build_model(family: str, config: dict[str, Any]) -> nn.Module:
    """Instantiate a model of `family` from its config dict (as stored in config.json)."""
    builders = _builders()
    if family not in builders:
        raise KeyError(f"unknown model family {family!r}; known: {', '.join(sorted(builders))}")
    return builders[family](config)


def _builders() -> dict[str, ModelBuilder]:
    from generators.models.lstm import LSTMConfig, LSTMLanguageModel

    builders: dict[str, ModelBuilder] = {
        "lstm": lambda c: LSTMLanguageModel(LSTMConfig(**c)),
    }
    try:
        from generators.models.transformer import TransformerConfig, TransformerLanguageModel

        builders["transformer"] = lambda c: TransformerLanguageModel(TransformerConfig(**c))
    except ImportError:
        pass
    try:
        from generators.models.vae import SentenceVAE, VAEConfig

        builders["vae"] = lambda c: SentenceVAE(VAEConfig(**c))
    except ImportError:
        pass
    try:
        from generators.models.seqgan import Discriminator, DiscriminatorConfig

        builders["discriminator"] = lambda c: Discriminator(DiscriminatorConfig(**c))
    except ImportError:
        pass
    return builders
