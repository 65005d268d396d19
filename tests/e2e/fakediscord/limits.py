"""Discord's server-side limits, enforced so a bot that would get a 400 in production gets one here.

discord.py checks few of these locally (it accepts empty and over-long command descriptions,
long contents and too many choices), so the fake answers like Discord does: 400 with code
50035 "Invalid Form Body" and an `errors` tree discord.py flattens into the exception text.
"""

from __future__ import annotations

import re
from typing import Any

from .wire import DiscordError

JSON = dict[str, Any]
ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024
COMMAND_NAME = re.compile(r"^[-_'\w]{1,32}$")
CHAT_INPUT = 1
SUBCOMMAND_TYPES = (1, 2)
EMBED_LIMITS = {"title": 256, "description": 4096}


def invalid(path: str, message: str, code: str = "BASE_TYPE_INVALID") -> DiscordError:
    """A 50035 error whose `errors` tree points at the dotted `path`."""
    errors: JSON = {"_errors": [{"code": code, "message": message}]}
    for part in reversed(path.split(".")):
        errors = {part: errors}
    return DiscordError(400, 50035, "Invalid Form Body", errors)


def too_long(path: str, value: str | None, limit: int) -> DiscordError | None:
    if value is not None and len(value) > limit:
        return invalid(path, f"Must be {limit} or fewer in length.", "BASE_TYPE_MAX_LENGTH")
    return None


def raise_first(*errors: DiscordError | None) -> None:
    for error in errors:
        if error is not None:
            raise error


def check_message(body: JSON, *, creating: bool, file_count: int) -> None:
    """Content, embed and component limits, and Discord's refusal of empty messages."""
    content = body.get("content")
    embeds = body.get("embeds") or []
    raise_first(too_long("content", content, 2000))
    if len(embeds) > 10:
        raise invalid("embeds", "Must be 10 or fewer in length.", "BASE_TYPE_MAX_LENGTH")
    for index, embed in enumerate(embeds):
        raise_first(
            *(
                too_long(f"embeds.{index}.{key}", embed.get(key), n)
                for key, n in EMBED_LIMITS.items()
            )
        )
        if len(embed.get("fields", [])) > 25:
            raise invalid(f"embeds.{index}.fields", "Must be 25 or fewer in length.")
    rows = body.get("components") or []
    if len(rows) > 5 and not body.get("flags", 0) & (1 << 15):
        raise invalid("components", "Must be 5 or fewer in length.", "BASE_TYPE_MAX_LENGTH")
    for index, row in enumerate(rows):
        for position, item in enumerate(row.get("components", [])):
            path = f"components.{index}.components.{position}"
            raise_first(
                too_long(f"{path}.custom_id", item.get("custom_id"), 100),
                too_long(f"{path}.label", item.get("label"), 80),
            )
    has_payload = content or embeds or rows or file_count or body.get("poll")
    if creating and not has_payload:
        raise DiscordError(400, 50006, "Cannot send an empty message")


def check_choices(data: JSON) -> None:
    choices = data.get("choices") or []
    if len(choices) > 25:
        raise invalid("data.choices", "Must be 25 or fewer in length.", "BASE_TYPE_MAX_LENGTH")
    for index, choice in enumerate(choices):
        raise_first(
            too_long(f"data.choices.{index}.name", choice.get("name"), 100),
            too_long(f"data.choices.{index}.value", str(choice.get("value")), 100),
        )


def check_modal(data: JSON) -> None:
    raise_first(
        too_long("data.title", data.get("title"), 45),
        too_long("data.custom_id", data.get("custom_id"), 100),
    )
    if not 1 <= len(data.get("components") or []) <= 5:
        raise invalid("data.components", "Must be between 1 and 5 in length.")


def check_commands(commands: list[JSON]) -> None:
    """Names, descriptions, option and choice counts of a bulk overwrite."""
    if len(commands) > 100:
        raise invalid("_", "Must be 100 or fewer in length.", "BASE_TYPE_MAX_LENGTH")
    for index, command in enumerate(commands):
        chat_input = command.get("type", CHAT_INPUT) == CHAT_INPUT
        check_described(str(index), command, chat_input=chat_input)


def check_described(path: str, item: JSON, *, chat_input: bool) -> None:
    name = item.get("name", "")
    description = item.get("description", "")
    if chat_input and (not COMMAND_NAME.match(name) or name != name.lower()):
        raise invalid(f"{path}.name", "Command name is invalid", "APPLICATION_COMMAND_INVALID_NAME")
    if not chat_input and not 1 <= len(name) <= 32:
        raise invalid(f"{path}.name", "Must be between 1 and 32 in length.")
    if chat_input and not 1 <= len(description) <= 100:
        raise invalid(f"{path}.description", "Must be between 1 and 100 in length.")
    options = item.get("options") or []
    choices = item.get("choices") or []
    if len(options) > 25 or len(choices) > 25:
        raise invalid(f"{path}.options", "Must be 25 or fewer in length.", "BASE_TYPE_MAX_LENGTH")
    seen_optional = False
    for position, option in enumerate(options):
        option_path = f"{path}.options.{position}"
        if option.get("type") not in SUBCOMMAND_TYPES:
            if option.get("required") and seen_optional:
                raise invalid(option_path, "Required options must be placed before non-required")
            seen_optional = seen_optional or not option.get("required")
        check_described(option_path, option, chat_input=True)
