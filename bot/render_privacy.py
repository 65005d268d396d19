"""A user's data export, deletion and style-memory choice as text (Discord and the terminal)."""

from __future__ import annotations

from bot.story.privacy import DataExport, DeleteResult, StyleChoice

DELETE_WARNING = (
    "This deletes your characters, your places in stories, your style profile, your feedback "
    "and your privacy choice, in every server, and cannot be undone. Take `/privacy export` "
    "first if you want a copy."
)


def export_text(export: DataExport) -> str:
    held = ", ".join(f"{count} {name.replace('_', ' ')}" for name, count in export.counts.items())
    return f"Your data, as JSON ({held}). Only you can see this message."


def delete_text(result: DeleteResult) -> str:
    changed = [
        f"{count} {name.replace('_', ' ')}" for name, count in result.changed.items() if count
    ]
    done = f"Done: {', '.join(changed)}." if changed else "Nothing of yours was stored."
    return f"{done}\n{result.kept}"


def style_choice_text(choice: StyleChoice) -> str:
    state = "on" if choice.on else "off"
    if choice.own_choice is None:
        why = f"this server's default (it is {'on' if choice.guild_default else 'off'})"
    else:
        why = "your own choice"
    return (
        f"Style memory is {state} for you here: {why}. When it is on, the bot learns how you "
        "write from your turns and leans its turns that way in stories that match styles; "
        "turning it off deletes what it learned."
    )
