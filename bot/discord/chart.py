"""A small PNG of a writer's style profile, drawn with matplotlib's Agg renderer.

Drawing takes tens of milliseconds and importing matplotlib longer, so callers run
`style_chart` in a worker thread; it uses a bare `Figure` (no pyplot state), which is safe there.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

from bot.story.export import label

READABLE_STATS = (
    ("turns", "turns"),
    ("dialogue_turns", "with dialogue"),
    ("words_per_sentence", "words / sentence"),
)


def style_chart(stats: Mapping[str, Any]) -> bytes:
    """Bars of the writer's readable statistics and of the genres they write in."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7, 2.8), dpi=100, layout="constrained")
    numbers, genres = figure.subplots(1, 2)
    names = [title for key, title in READABLE_STATS]
    values = [float(stats.get(key, 0) or 0) for key, _ in READABLE_STATS]
    numbers.barh(names, values, color="#5865f2")
    numbers.set_title("Your writing")
    numbers.invert_yaxis()
    favourite = sorted(dict(stats.get("genres", {})).items(), key=lambda item: -item[1])[:6]
    genres.barh([label(g) for g, _ in favourite] or ["none yet"], [n for _, n in favourite] or [0])
    genres.set_title("Turns by genre")
    genres.invert_yaxis()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
