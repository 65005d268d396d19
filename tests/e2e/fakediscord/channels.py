"""REST routes under /channels: messages, history, threads, typing and reactions."""

from __future__ import annotations

from aiohttp import web

from . import messages, payloads
from .hub import Hub
from .state import PRIVATE_THREAD, Channel, Message
from .wire import API_PREFIX, DiscordError, body_of, no_content, reply

CHANNEL = f"{API_PREFIX}/channels/{{channel}}"
MESSAGE = f"{CHANNEL}/messages/{{message}}"
REACTIONS = f"{MESSAGE}/reactions"


class ChannelsApi:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.world = hub.world

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get(CHANNEL, self.get_channel),
            web.delete(CHANNEL, self.delete_channel),
            web.get(f"{CHANNEL}/messages", self.history),
            web.post(f"{CHANNEL}/messages", self.create_message),
            web.get(MESSAGE, self.get_message),
            web.patch(MESSAGE, self.edit_message),
            web.delete(MESSAGE, self.delete_message),
            web.post(f"{CHANNEL}/threads", self.create_thread),
            web.post(f"{MESSAGE}/threads", self.create_thread),
            web.put(f"{CHANNEL}/thread-members/{{user}}", self.join_thread),
            web.delete(f"{CHANNEL}/thread-members/{{user}}", self.leave_thread),
            web.post(f"{CHANNEL}/typing", self.typing),
            web.put(f"{REACTIONS}/{{emoji}}/{{user}}", self.add_reaction),
            web.delete(f"{REACTIONS}/{{emoji}}/{{user}}", self.remove_reaction),
            web.delete(f"{REACTIONS}/{{emoji}}", self.remove_reaction),
            web.delete(REACTIONS, self.remove_reaction),
        ]

    def _channel(self, request: web.Request) -> Channel:
        return self.hub.channel(request.match_info["channel"])

    def _message(self, request: web.Request) -> Message:
        return self.hub.message(self._channel(request), request.match_info["message"])

    async def get_channel(self, request: web.Request) -> web.Response:
        return reply(payloads.channel(self._channel(request)))

    async def delete_channel(self, request: web.Request) -> web.Response:
        """Deleting a thread (or channel) removes it and tells the bot, like Discord."""
        channel = self._channel(request)
        del self.world.channels[channel.id]
        data = payloads.channel(channel)
        event = "THREAD_DELETE" if channel.is_thread else "CHANNEL_DELETE"
        await self.hub.gateway.dispatch(event, data, channel.guild_id)
        return reply(data)

    async def history(self, request: web.Request) -> web.Response:
        """Newest first, like Discord; `before`/`after` bound the page and `limit` sizes it."""
        query = request.query
        limit = int(query.get("limit", 50))
        ids = [
            i
            for i in self._channel(request).message_ids
            if not self.world.messages[i].deleted and not self.world.messages[i].ephemeral
        ]
        if "before" in query:
            ids = [i for i in ids if i < int(query["before"])]
        if "after" in query:
            ids = [i for i in ids if i > int(query["after"])][:limit]
        page = ids[-limit:]
        return reply([payloads.message(self.world, self.world.messages[i]) for i in reversed(page)])

    async def create_message(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        body = body_of(request)
        message = self.hub.new_message(channel, self.hub.bot)
        messages.apply(self.world, message, body.object, body.uploads, creating=True)
        self.world.add_message(message)
        await self.hub.publish(message)
        return reply(payloads.message(self.world, message))

    async def get_message(self, request: web.Request) -> web.Response:
        return reply(payloads.message(self.world, self._message(request)))

    async def edit_message(self, request: web.Request) -> web.Response:
        message = self._message(request)
        if message.author.id != self.hub.bot.id:
            raise DiscordError(403, 50005, "Cannot edit a message authored by another user")
        body = body_of(request)
        messages.apply(self.world, message, body.object, body.uploads, creating=False)
        await self.hub.publish(message, "MESSAGE_UPDATE")
        return reply(payloads.message(self.world, message))

    async def delete_message(self, request: web.Request) -> web.Response:
        message = self._message(request)
        message.deleted = True
        ids = {"id": str(message.id), "channel_id": str(message.channel_id)}
        event = ids | {"guild_id": str(message.guild_id)}
        await self.hub.gateway.dispatch("MESSAGE_DELETE", event, message.guild_id)
        return no_content()

    async def create_thread(self, request: web.Request) -> web.Response:
        """Without a message the thread is private by default (discord.py sends type 12)."""
        parent = self._channel(request)
        if parent.is_thread:
            raise DiscordError(400, 50024, "Cannot execute action on this channel type")
        data = body_of(request).object
        starter = self._message(request) if "message" in request.match_info else None
        private = starter is None and data.get("type", PRIVATE_THREAD) == PRIVATE_THREAD
        thread = self.world.add_thread(
            parent,
            data["name"],
            self.hub.bot,
            private=private,
            thread_id=starter.id if starter else None,
        )
        if starter is not None:
            starter.thread_id = thread.id
        created = payloads.channel(thread)
        event = created | {"newly_created": True}
        await self.hub.gateway.dispatch("THREAD_CREATE", event, thread.guild_id)
        return reply(created, 201)

    async def join_thread(self, request: web.Request) -> web.Response:
        self._channel(request).member_ids.add(self._user_id(request))
        return no_content()

    async def leave_thread(self, request: web.Request) -> web.Response:
        self._channel(request).member_ids.discard(self._user_id(request))
        return no_content()

    async def typing(self, request: web.Request) -> web.Response:
        self._channel(request)
        return no_content()

    async def add_reaction(self, request: web.Request) -> web.Response:
        self._message(request).reactions.append(request.match_info["emoji"])
        return no_content()

    async def remove_reaction(self, request: web.Request) -> web.Response:
        message = self._message(request)
        emoji = request.match_info.get("emoji")
        message.reactions = [r for r in message.reactions if emoji is not None and r != emoji]
        return no_content()

    def _user_id(self, request: web.Request) -> int:
        user = request.match_info["user"]
        return self.hub.bot.id if user == "@me" else int(user)
