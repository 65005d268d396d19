"""What `/story show` says about a turn beyond its text, as plain lines for every front end:
that it was edited, with its earlier texts."""

from __future__ import annotations

from bot.story.results import EditView, TurnView

EARLIER_CHARS = 200
"""An earlier text is cut to this in a page; the history keeps every word."""


def turn_notes(view: TurnView) -> list[str]:
    lines = []
    if view.history:
        times = "once" if len(view.history) == 1 else f"{len(view.history)} times"
        lines.append(f"(edited {times})")
        for number, edit in enumerate(view.history, start=1):
            lines.append(f"version {number}, before {edit.editor_name}'s edit: {_clip(edit)}")
    return lines


def _clip(edit: EditView) -> str:
    text = " ".join(edit.previous_text.split())
    return text if len(text) <= EARLIER_CHARS else text[: EARLIER_CHARS - 1].rstrip() + "…"
