"""The trained profanity classifier from `alt-profanity-check`, loaded on first use.

It is a linear SVM over a bag of words: cheap per text but with a fixed cost per call, so it is
always called on a batch. Importing it pulls in scikit-learn and unpickles its weights (about a
second), hence the lazy load; if that fails the moderator keeps working on word lists alone.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence

log = logging.getLogger(__name__)

Predict = Callable[[list[str]], Iterable[float]]
"""One probability per text (the library returns a numpy array)."""


class ProfanityClassifier:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._predict: Predict | None = None
        self._failed = False

    def _load(self) -> Predict | None:
        if self._predict is not None or self._failed:
            return self._predict
        with self._lock:
            if self._predict is None and not self._failed:
                try:
                    from profanity_check import predict_prob
                except Exception as exc:  # ImportError, or weights that no longer unpickle
                    self._failed = True
                    log.warning("profanity classifier unavailable, using word lists only: %s", exc)
                else:
                    self._predict = predict_prob
        return self._predict

    @property
    def available(self) -> bool:
        return self._load() is not None

    def scores(self, texts: Sequence[str]) -> list[float] | None:
        """Probability that each text is profane or abusive; None when the model is unavailable."""
        predict = self._load()
        if predict is None or not texts:
            return None
        try:
            return [float(p) for p in predict(list(texts))]
        except Exception:
            log.warning("profanity classifier failed; using word lists only", exc_info=True)
            return None
