"""Exceptions shared by every Generator implementation, so callers handle one set of failures."""

from __future__ import annotations


class GeneratorError(Exception):
    """Root of generation failures."""


class GeneratorUnavailable(GeneratorError):
    """No model or service can take the request now (down, overloaded, circuit open)."""


class GeneratorTimeout(GeneratorUnavailable):
    """The request did not finish within its deadline."""


class GeneratorOverloaded(GeneratorUnavailable):
    """The queue is full; retry later."""

    def __init__(self, message: str = "generation queue is full", retry_after: float = 1.0):
        super().__init__(message)
        self.retry_after = retry_after


class GenerationFailed(GeneratorUnavailable):
    """Sampling raised for this request (its batch-mates carry on); an HTTP 500."""


class InvalidGenerationRequest(GeneratorError):
    """The request itself is wrong (unknown model, too long, out-of-range parameter)."""


class ContextTooLarge(InvalidGenerationRequest):
    """The story context is longer than the generator accepts; an HTTP 413."""


class UnknownModel(InvalidGenerationRequest):
    """The request names a model that is not loaded."""


class NoSentenceModel(UnknownModel):
    """Sentence vectors were asked of a generator that serves no sentence VAE."""


class NoDiscriminator(InvalidGenerationRequest):
    """`rerank="discriminator"` was asked for a model that no loaded discriminator can read."""


class CheckpointError(Exception):
    """A checkpoint folder is missing a file, has a mismatched file, or is corrupt."""
