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
        if "distinct_word_share" in stats:
            share = float(stats["distinct_word_share"])
            lines.append(f"Vocabulary: {share:.0%} of the words in a turn are different words.")
        genres = stats.get("genres", {})
        if genres:
            lines.append("Genres: " + ", ".join(f"{label(g)} ({n})" for g, n in _top(genres)))
        characters = stats.get("characters", {})
        if characters:
            lines.append("Writes as: " + ", ".join(f"{name} ({n})" for name, n in _top(characters)))
    lines.append(f"Style vector: {'yes' if view.has_vector else 'not yet'}.")
    prefs = ", ".join(f"{key} {value}" for key, value in view.preferences.items()) or "none"
    lines.append(f"Preferences: {prefs}.")
    return "\n".join(lines)


def _top(counts: dict[str, int], limit: int = 5) -> list[tuple[str, int]]:
    """The most frequent first."""
    return sorted(counts.items(), key=lambda item: (-int(item[1]), item[0]))[:limit]


def forget_text(result: ForgetResult) -> str:
    deleted = [_count(table, count) for table, count in result.deleted.items() if count]
    if not deleted:
        return "There was nothing to forget: no style profile or feedback of yours is stored."
    return f"Forgotten. Deleted {', '.join(deleted)}."


def _count(table: str, count: int) -> str:
    name = table.replace("_", " ")
    return f"{count} {name[:-1] if count == 1 and name.endswith('s') else name}"
