"""Where the bundled checkpoints live (torch-free, so settings can name them cheaply)."""

from __future__ import annotations

from pathlib import Path

CHECKPOINTS_DIR = Path(__file__).parent / "checkpoints"
LSTM_CHECKPOINT = CHECKPOINTS_DIR / "default"
"""The LSTM keeps its first folder name and model id, `default`, so that stories and configs
that named it before the transformer became the default still find it."""
TRANSFORMER_CHECKPOINT = CHECKPOINTS_DIR / "transformer"
BUNDLED_MODELS = {"transformer": TRANSFORMER_CHECKPOINT, "lstm": LSTM_CHECKPOINT}
"""The bundled language models by the name a person picks them with (`talewright play --model`,
`[generator] model`); the first is the default. The transformer leads since it measured better
on the continuation benchmark (generators/checkpoints/transformer/card.md)."""
DEFAULT_CHECKPOINT = TRANSFORMER_CHECKPOINT


def bundled_checkpoints() -> list[Path]:
    """Every bundled language model that is present, the default first."""
    return [p for p in BUNDLED_MODELS.values() if p.is_dir()]


def model_folder(name: str) -> Path:
    """A bundled model's folder by name ("lstm", "transformer"), or `name` as a folder."""
    return BUNDLED_MODELS.get(name, Path(name))


VAE_CHECKPOINT = CHECKPOINTS_DIR / "vae"
SEQGAN_CHECKPOINT = CHECKPOINTS_DIR / "seqgan"

RETRIEVAL_INDEX_ENV = "TALEWRIGHT_RETRIEVAL_INDEX"


def retrieval_index() -> Path | None:
    """Where the passage index (generators.retrieval) is looked for: `$TALEWRIGHT_RETRIEVAL_INDEX`
    (empty: none), else the user's cache folder, where `make play` and `talewright retrieval
    build` write it. It is built from the corpus, never shipped: it holds the corpus's text."""
    import os

    from platformdirs import user_cache_dir

    value = os.environ.get(RETRIEVAL_INDEX_ENV)
    if value is not None:
        return Path(value) if value.strip() else None
    return Path(user_cache_dir("talewright", appauthor=False)) / "passage-index"
