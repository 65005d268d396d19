"""The record of one interaction the fake sent, and of everything the bot did in reply."""

# ruff: noqa: ASYNC109 -- a test says how long it will wait, so timeouts are parameters.

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from .messages import Button, buttons
from .state import Message, StoredFile, User, World

JSON = dict[str, Any]
# Interaction callback types.
MESSAGE = 4
DEFERRED_MESSAGE = 5
DEFERRED_UPDATE = 6
UPDATE_MESSAGE = 7
AUTOCOMPLETE = 8
MODAL = 9


@dataclass(frozen=True)
class Callback:
    """One POST to /interactions/{id}/{token}/callback: its type, its `data` and when it came."""

    type: int
    data: JSON
    at: float


@dataclass
class Interaction:
    id: int
    token: str
    type: int
    user: User
    channel_id: int
    payload: JSON
    world: World = field(repr=False)
    source_message_id: int | None = None
    created_at: float = field(default_factory=time.monotonic)
    callbacks: list[Callback] = field(default_factory=list)
    original_id: int | None = None
    followup_ids: list[int] = field(default_factory=list)

    @property
    def response(self) -> Callback | None:
        return self.callbacks[0] if self.callbacks else None

    @property
    def ack_latency(self) -> float | None:
        """Seconds from dispatching INTERACTION_CREATE to the bot's first callback."""
        return self.response.at - self.created_at if self.response else None

    @property
    def original(self) -> Message | None:
        """The original response message, with its current (edited) content."""
        message = self.world.messages.get(self.original_id) if self.original_id else None
        return message if message is not None and not message.deleted else None

    @property
    def followups(self) -> list[Message]:
        found = (self.world.messages[i] for i in self.followup_ids)
        return [m for m in found if not m.deleted]

    @property
    def visible(self) -> list[Message]:
        """What the user ends up seeing: the original response, then the follow-ups."""
        original = self.original
        return ([original] if original is not None else []) + self.followups

    @property
    def content(self) -> str:
        return "\n".join(m.content for m in self.visible if m.content)

    @property
    def ephemeral(self) -> bool:
        """Whether the first response was ephemeral (flag 64)."""
        response = self.response
        return bool(response and int(response.data.get("flags") or 0) & 64)

    @property
    def buttons(self) -> list[Button]:
        return [b for m in self.visible for b in buttons(m)]

    @property
    def files(self) -> list[StoredFile]:
        return [f for m in self.visible for f in m.attachments]

    @property
    def modal(self) -> JSON | None:
        """The modal the bot opened (custom_id, title, components), if it answered with one."""
        return self._data_of(MODAL)

    @property
    def choices(self) -> list[JSON]:
        data = self._data_of(AUTOCOMPLETE)
        return list(data.get("choices", [])) if data else []

    def _data_of(self, callback_type: int) -> JSON | None:
        return next((c.data for c in self.callbacks if c.type == callback_type), None)

    async def wait_response(self, timeout: float = 5.0) -> Callback:
        return await self.world.changes.wait_for(
            lambda: self.response, timeout, f"a response to interaction {self.id}"
        )

    async def wait_followups(self, count: int = 1, timeout: float = 5.0) -> list[Message]:
        return await self.world.changes.wait_for(
            lambda: self.followups if len(self.followups) >= count else None,
            timeout,
            f"{count} follow-up(s) to interaction {self.id}",
        )

    async def wait_content(self, text: str, timeout: float = 5.0) -> str:
        """Wait until `text` shows in the visible content (after a defer, edit or follow-up)."""
        return await self.world.changes.wait_for(
            lambda: self.content if text in self.content else None,
            timeout,
            f"{text!r} in the response to interaction {self.id} (now {self.content!r})",
        )
