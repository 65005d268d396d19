"""A writer's style profile as text, and what `/style forget` deleted."""

from __future__ import annotations

from bot.story.export import label
from bot.story.results import ForgetResult, StyleView


def style_text(view: StyleView) -> str:
    stats = view.stats
    if not stats and not view.preferences:
        return "No style profile yet: it grows as you write turns."
    lines = ["**Your writing style**"]
    if stats:
        lines.append(
            f"{stats.get('turns', 0)} turns, {stats.get('words', 0)} words, "
            f"{stats.get('words_per_sentence', 0)} words per sentence, "
            f"{stats.get('dialogue_turns', 0)} with dialogue."
        )
        genres = stats.get("genres", {})
        if genres:
            lines.append("Genres: " + ", ".join(f"{label(g)} ({n})" for g, n in genres.items()))
    lines.append(f"Style vector: {'yes' if view.has_vector else 'not yet'}.")
    prefs = ", ".join(f"{key} {value}" for key, value in view.preferences.items()) or "none"
    lines.append(f"Preferences: {prefs}.")
    return "\n".join(lines)


def forget_text(result: ForgetResult) -> str:
    deleted = [_count(table, count) for table, count in result.deleted.items() if count]
    if not deleted:
        return "There was nothing to forget: no style profile or feedback of yours is stored."
    return f"Forgotten. Deleted {', '.join(deleted)}."


def _count(table: str, count: int) -> str:
    name = table.replace("_", " ")
    return f"{count} {name[:-1] if count == 1 and name.endswith('s') else name}"
