"""Creating and editing messages from request bodies, the way Discord applies them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from . import limits
from .state import EPHEMERAL, LOADING, Message, Revision, StoredFile, World
from .wire import DiscordError, Part

JSON = dict[str, Any]


@dataclass(frozen=True)
class Button:
    custom_id: str | None
    label: str | None
    style: int
    url: str | None
    disabled: bool


def walk_components(components: list[JSON]) -> Iterator[JSON]:
    """Every component, nested ones included (action rows, containers, section accessories)."""
    for component in components:
        yield component
        yield from walk_components(component.get("components", []))
        for key in ("component", "accessory"):
            if isinstance(component.get(key), dict):
                yield from walk_components([component[key]])


def buttons(message: Message) -> list[Button]:
    return [
        Button(
            c.get("custom_id"),
            c.get("label"),
            c.get("style", 1),
            c.get("url"),
            c.get("disabled", False),
        )
        for c in walk_components(message.components)
        if c.get("type") == 2
    ]


def component_type(message: Message, custom_id: str) -> int:
    for component in walk_components(message.components):
        if component.get("custom_id") == custom_id:
            return int(component["type"])
    raise LookupError(f"message {message.id} has no component with custom_id {custom_id!r}")


def apply(
    world: World, message: Message, body: JSON, uploads: dict[int, Part], *, creating: bool
) -> None:
    """Write `body` (a Discord message create/edit JSON) and its files onto `message`."""
    limits.check_message(body, creating=creating, file_count=len(uploads))
    now = datetime.now(UTC)
    for key in ("embeds", "components"):
        if key in body:
            setattr(message, key, body[key] or [])
    if "tts" in body:
        message.tts = bool(body["tts"])
    if "message_reference" in body:
        message.message_reference = body["message_reference"]
    if creating:
        message.flags = int(body.get("flags") or 0)
    else:
        # Edits keep the ephemeral flag and end a deferred response's "thinking" state.
        if "flags" in body:
            message.flags = message.flags & EPHEMERAL | int(body["flags"] or 0)
        else:
            message.flags &= ~LOADING
        message.edited_at = now
    if "content" in body or creating:
        message.content = body.get("content") or ""
        message.revisions.append(Revision(message.content, body.get("allowed_mentions"), now))
    message.attachments = attachments(world, message, body, uploads)


def attachments(
    world: World, message: Message, body: JSON, uploads: dict[int, Part]
) -> list[StoredFile]:
    """Existing files listed in `attachments` stay, `files[n]` parts are added."""
    for upload in uploads.values():
        if len(upload.data) > limits.ATTACHMENT_SIZE_LIMIT:
            raise DiscordError(413, 40005, "Request entity too large")
    listed = body.get("attachments")
    if listed is None:
        indices = sorted(uploads)
        kept = message.attachments
    else:
        ids = [int(entry["id"]) for entry in listed]
        indices = [i for i in ids if i in uploads] + [i for i in sorted(uploads) if i not in ids]
        kept = [f for f in message.attachments if f.id in ids]
    descriptions = {int(e["id"]): e.get("description") for e in listed or []}
    added = []
    for index in indices:
        upload = uploads[index]
        stored = world.store_file(
            message.channel_id, upload.filename, upload.data, upload.content_type
        )
        stored.description = descriptions.get(index)
        added.append(stored)
    return kept + added
