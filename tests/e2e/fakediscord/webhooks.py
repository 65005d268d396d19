"""Interaction callbacks and the interaction webhook (follow-ups, original response edits).

Discord's rules the bot must live with are enforced: an interaction not acknowledged within
`Hub.ack_deadline` is gone (404, code 10062), a second callback is refused (400, code 40060),
follow-ups need an acknowledged interaction, and each interaction type allows only some
callback types.
"""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from . import limits, messages, payloads
from .hub import Hub
from .interactions import (
    AUTOCOMPLETE,
    DEFERRED_MESSAGE,
    DEFERRED_UPDATE,
    MESSAGE,
    MODAL,
    UPDATE_MESSAGE,
    Callback,
    Interaction,
)
from .state import EPHEMERAL, LOADING, Message
from .wire import API_PREFIX, DiscordError, Part, body_of, no_content, not_found, reply

JSON = dict[str, Any]
WEBHOOK = f"{API_PREFIX}/webhooks/{{app}}/{{token}}"
# Interaction type -> callback types Discord accepts for it.
ALLOWED_CALLBACKS = {
    2: {MESSAGE, DEFERRED_MESSAGE, MODAL},
    3: {MESSAGE, DEFERRED_MESSAGE, DEFERRED_UPDATE, UPDATE_MESSAGE, MODAL},
    4: {AUTOCOMPLETE},
    5: {MESSAGE, DEFERRED_MESSAGE, DEFERRED_UPDATE, UPDATE_MESSAGE},
}
CHAT_INPUT_COMMAND_MESSAGE, CONTEXT_MENU_COMMAND_MESSAGE = 20, 23


class InteractionsApi:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.world = hub.world

    def routes(self) -> list[web.RouteDef]:
        callback = f"{API_PREFIX}/interactions/{{interaction}}/{{token}}/callback"
        return [
            web.post(callback, self.callback),
            web.post(WEBHOOK, self.followup),
            web.get(f"{WEBHOOK}/messages/{{message}}", self.get_message),
            web.patch(f"{WEBHOOK}/messages/{{message}}", self.edit_message),
            web.delete(f"{WEBHOOK}/messages/{{message}}", self.delete_message),
        ]

    async def callback(self, request: web.Request) -> web.Response:
        received = time.monotonic()
        ix = self.hub.interactions.get(int(request.match_info["interaction"]))
        if ix is None or ix.token != request.match_info["token"]:
            raise not_found("interaction", 10062)
        if received - ix.created_at > self.hub.ack_deadline:
            raise not_found("interaction", 10062)
        if ix.callbacks:
            raise DiscordError(400, 40060, "Interaction has already been acknowledged.")
        body = body_of(request)
        kind = int(body.object.get("type", 0))
        data: JSON = body.object.get("data") or {}
        if kind not in ALLOWED_CALLBACKS[ix.type]:
            raise limits.invalid("type", f"Callback type {kind} is invalid for this interaction")
        message = await self._respond(ix, kind, data, body.uploads)
        ix.callbacks.append(Callback(kind, data, received))
        if message is not None:
            ix.original_id = message.id
        if "with_response" not in request.query:
            return no_content()
        return reply(self._callback_response(ix, kind, message))

    async def _respond(
        self, ix: Interaction, kind: int, data: JSON, uploads: dict[int, Part]
    ) -> Message | None:
        """Apply one callback; returns the message it created or updated, if any."""
        if kind == AUTOCOMPLETE:
            limits.check_choices(data)
        elif kind == MODAL:
            limits.check_modal(data)
        elif kind == MESSAGE:
            return await self._create(ix, data, uploads)
        elif kind == DEFERRED_MESSAGE:
            message = self._new(ix)
            message.flags = LOADING | int(data.get("flags") or 0) & EPHEMERAL
            self.world.add_message(message)
            await self.hub.publish(message)
            return message
        elif kind in (DEFERRED_UPDATE, UPDATE_MESSAGE):
            source = self.world.messages.get(ix.source_message_id or 0)
            if source is None:
                raise limits.invalid("type", "This interaction has no message to update")
            if kind == UPDATE_MESSAGE:
                messages.apply(self.world, source, data, uploads, creating=False)
                await self.hub.publish(source, "MESSAGE_UPDATE")
            return source
        return None

    def _callback_response(self, ix: Interaction, kind: int, message: Message | None) -> JSON:
        """The `?with_response=1` body discord.py 2.7 reads (it stores views by message id)."""
        interaction: JSON = {
            "id": str(ix.id),
            "type": ix.type,
            "response_message_loading": kind == DEFERRED_MESSAGE,
            "response_message_ephemeral": bool(message and message.ephemeral),
        }
        if message is None:
            return {"interaction": interaction, "resource": None}
        interaction["response_message_id"] = str(message.id)
        resource = {"type": kind, "message": payloads.message(self.world, message)}
        return {"interaction": interaction, "resource": resource}

    async def followup(self, request: web.Request) -> web.Response:
        ix = self._interaction(request)
        if not ix.callbacks:
            raise not_found("Webhook", 10015)
        body = body_of(request)
        thread_id = request.query.get("thread_id")
        message = await self._create(ix, body.object, body.uploads, thread_id)
        ix.followup_ids.append(message.id)
        if request.query.get("wait") not in ("1", "true", "True"):
            return no_content()
        return reply(payloads.message(self.world, message))

    async def get_message(self, request: web.Request) -> web.Response:
        return reply(payloads.message(self.world, self._webhook_message(request)))

    async def edit_message(self, request: web.Request) -> web.Response:
        message = self._webhook_message(request)
        body = body_of(request)
        messages.apply(self.world, message, body.object, body.uploads, creating=False)
        await self.hub.publish(message, "MESSAGE_UPDATE")
        return reply(payloads.message(self.world, message))

    async def delete_message(self, request: web.Request) -> web.Response:
        message = self._webhook_message(request)
        message.deleted = True
        event = {
            "id": str(message.id),
            "channel_id": str(message.channel_id),
            "guild_id": str(message.guild_id),
        }
        if not message.ephemeral:
            await self.hub.gateway.dispatch("MESSAGE_DELETE", event, message.guild_id)
        return no_content()

    def _interaction(self, request: web.Request) -> Interaction:
        ix = self.hub.interaction(request.match_info["token"])
        if request.match_info["app"] != str(self.hub.application_id):
            raise not_found("Webhook", 10015)
        return ix

    def _webhook_message(self, request: web.Request) -> Message:
        ix = self._interaction(request)
        wanted = request.match_info["message"]
        message_id = ix.original_id if wanted == "@original" else int(wanted)
        if message_id is None or message_id not in (ix.original_id, *ix.followup_ids):
            raise not_found("Message", 10008)
        message = self.world.messages[message_id]
        if message.deleted:
            raise not_found("Message", 10008)
        return message

    def _new(self, ix: Interaction, channel_id: int | None = None) -> Message:
        """A message authored by the bot through the interaction webhook, tagged with `ix`."""
        channel = self.world.channels[channel_id or ix.channel_id]
        message = self.hub.new_message(channel, self.hub.bot)
        message.webhook_id = self.hub.application_id
        message.interaction_id = ix.id
        message.interaction_metadata = {
            "id": str(ix.id),
            "type": ix.type,
            "user": payloads.user(ix.user),
            "authorizing_integration_owners": {"0": str(channel.guild_id)},
        }
        if ix.type == 2:
            slash = ix.payload["data"].get("type", 1) == 1
            message.type = CHAT_INPUT_COMMAND_MESSAGE if slash else CONTEXT_MENU_COMMAND_MESSAGE
        return message

    async def _create(
        self, ix: Interaction, data: JSON, uploads: dict[int, Part], channel: str | None = None
    ) -> Message:
        message = self._new(ix, int(channel) if channel else None)
        messages.apply(self.world, message, data, uploads, creating=True)
        self.world.add_message(message)
        await self.hub.publish(message)
        return message
