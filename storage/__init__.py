"""Persistence for stories, turns, characters, style profiles and moderation events."""
