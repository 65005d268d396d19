"""Rebuilding the training corpus from its pinned public sources (`talewright data download`)."""
