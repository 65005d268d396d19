"""Persistence for stories, turns, characters, style profiles and moderation events."""

from storage.backends import open_storage_url

__all__ = ["open_storage_url"]
