"""Evaluation of what the models write: how well a turn follows the story it continues."""
