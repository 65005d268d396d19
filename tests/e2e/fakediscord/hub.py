"""What the REST handlers share: the world, the gateway, the bot and the live interactions."""

from __future__ import annotations

from dataclasses import dataclass, field

from . import payloads
from .gateway import Gateway
from .interactions import Interaction
from .state import Channel, Message, User, World
from .wire import API_PREFIX, not_found


@dataclass
class Hub:
    world: World
    gateway: Gateway
    bot: User
    base_url: str
    # Discord forgets an interaction that is not acknowledged within 3 seconds.
    ack_deadline: float = 3.0
    interactions: dict[int, Interaction] = field(default_factory=dict)

    @property
    def application_id(self) -> int:
        return self.bot.id

    @property
    def api_base_url(self) -> str:
        return self.base_url + API_PREFIX

    def channel(self, channel_id: str | int) -> Channel:
        channel = self.world.channels.get(int(channel_id))
        if channel is None:
            raise not_found("Channel", 10003)
        return channel

    def message(self, channel: Channel, message_id: str | int) -> Message:
        message = self.world.messages.get(int(message_id))
        if message is None or message.deleted or message.channel_id != channel.id:
            raise not_found("Message", 10008)
        return message

    def interaction(self, token: str) -> Interaction:
        for interaction in self.interactions.values():
            if interaction.token == token:
                return interaction
        raise not_found("Webhook", 10015)

    def new_message(self, channel: Channel, author: User) -> Message:
        return Message(self.world.ids.next(), channel.id, channel.guild_id, author)

    async def publish(self, message: Message, event: str = "MESSAGE_CREATE") -> None:
        """Tell the bot about a message, as Discord does for every non-ephemeral one."""
        if not message.ephemeral:
            data = payloads.message(self.world, message)
            await self.gateway.dispatch(event, data, message.guild_id)
