"""The generation service: an HTTP API over continuous-batching LSTM sampling."""

from generators.service.app import create_app

__all__ = ["create_app"]
