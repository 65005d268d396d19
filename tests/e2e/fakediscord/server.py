"""`FakeDiscord`: the server's lifecycle, its default world, and the API tests drive it with."""

# ruff: noqa: ASYNC109 -- a test says how long it will wait, so timeouts are parameters.

from __future__ import annotations

import socket
from collections.abc import Callable
from types import TracebackType
from typing import Any, TypeVar

from aiohttp import web

from . import mentions, wire
from .actions import ChannelRef, MessageRef, UserActions, UserRef
from .channels import ChannelsApi
from .gateway import Gateway
from .hub import Hub
from .interactions import Interaction
from .rest import CoreApi
from .state import (
    MEMBER_OVERWRITE,
    ROLE_OVERWRITE,
    VIEW_CHANNEL,
    Channel,
    Command,
    Guild,
    Message,
    Overwrite,
    RestCall,
    Role,
    User,
    World,
)
from .webhooks import InteractionsApi

JSON = dict[str, Any]
T = TypeVar("T")
# Manage messages and threads, mention everyone, on top of @everyone's defaults.
BOT_PERMISSIONS = (1 << 13) | (1 << 17) | (1 << 34) | (1 << 36)
MODERATOR_PERMISSIONS = (1 << 13) | (1 << 34)


class FakeDiscord(UserActions):
    """A local Discord: REST under /api/v10, the gateway at /gateway, files at /attachments.

    The default world is one guild ("Talewright Test Guild", owned by the first human) with
    @everyone, a role for the bot and a "Moderator" role, the `channels`, the bot and `humans`.
    Add more with `add_user`, `add_role` and `add_channel` before the bot connects.
    """

    def __init__(
        self,
        *,
        token: str = "fake-bot-token",
        bot_name: str = "Talewright",
        humans: tuple[str, ...] = ("alice", "bob", "carol"),
        channels: tuple[str, ...] = ("general", "stories"),
        ack_deadline: float = 3.0,
        reaction_time: float = 0.05,
    ) -> None:
        self.token = token
        # discord.py registers a view or modal only once its callback request has returned,
        # so a simulated user lets the bot see its own answer before clicking on it.
        self.reaction_time = reaction_time
        self.world = World()
        self.bot_user = self.world.add_user(bot_name, bot=True)
        people = [self.world.add_user(name) for name in humans]
        self.guild = self.world.add_guild("Talewright Test Guild", people[0])
        bot_role = self.world.add_role(self.guild, bot_name, permissions=BOT_PERMISSIONS)
        self.world.add_member(self.guild, self.bot_user, (bot_role,))
        self.world.add_role(self.guild, "Moderator", permissions=MODERATOR_PERMISSIONS)
        for person in people[1:]:
            self.world.add_member(self.guild, person)
        for name in channels:
            self.world.add_channel(self.guild, name)
        self.gateway = Gateway(self.world, self.bot_user, token, url="")
        self.hub = Hub(self.world, self.gateway, self.bot_user, "", ack_deadline)
        self._runner: web.AppRunner | None = None

    async def __aenter__(self) -> FakeDiscord:
        await self.start()
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        """Bind 127.0.0.1 on a free port and serve."""
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        self.hub.base_url = self.world.public_url = f"http://127.0.0.1:{port}"
        self.gateway.url = f"ws://127.0.0.1:{port}/gateway"
        app = web.Application(
            middlewares=[wire.middleware(self.world, self.token)], client_max_size=64 * 1024**2
        )
        app.router.add_get("/gateway", self.gateway.handle)
        for api in (CoreApi(self.hub), ChannelsApi(self.hub), InteractionsApi(self.hub)):
            app.router.add_routes(api.routes())
        app.router.add_route("*", "/{tail:.*}", wire.unknown_route, name=wire.UNKNOWN_ROUTE)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.SockSite(self._runner, sock).start()

    async def stop(self) -> None:
        await self.gateway.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def api_base_url(self) -> str:
        """What discord.py's `Route.BASE` must be set to."""
        return self.hub.api_base_url

    @property
    def gateway_url(self) -> str:
        return self.gateway.url

    # The world.

    def user(self, ref: UserRef) -> User:
        return self.world.user(ref)

    def channel(self, ref: ChannelRef) -> Channel:
        """A channel or thread by object, id or name."""
        return self.world.channel(ref)

    def role(self, ref: Role | int | str) -> Role:
        return self.world.role(ref)

    def message(self, ref: MessageRef) -> Message:
        return self.world.message(ref)

    def add_user(self, name: str, *, roles: tuple[Role | str, ...] = ()) -> User:
        """A new human member of the guild."""
        user = self.world.add_user(name)
        self.world.add_member(self.guild, user, tuple(self.role(r) for r in roles))
        return user

    def add_guild(
        self, name: str, *, shard: tuple[int, int], channels: tuple[str, ...] = ("general",)
    ) -> Guild:
        """Another guild on `shard` (shard id, shard count), with the bot (and its role) and
        every human of the default guild, and `channels`; before the bot connects."""
        humans = [user_id for user_id in self.guild.members if user_id != self.bot_user.id]
        owner = self.world.users[self.guild.owner_id]
        guild = self.world.add_guild(name, owner, shard=shard)
        bot_role = self.world.add_role(guild, self.bot_user.name, permissions=BOT_PERMISSIONS)
        self.world.add_member(guild, self.bot_user, (bot_role,))
        for user_id in humans:
            if user_id != owner.id:
                self.world.add_member(guild, self.world.users[user_id])
        for channel in channels:
            self.world.add_channel(guild, channel)
        return guild

    def add_role(
        self, name: str, *, permissions: int = 0, members: tuple[UserRef, ...] = ()
    ) -> Role:
        role = self.world.add_role(self.guild, name, permissions=permissions)
        for ref in members:
            self.guild.members[self.user(ref).id].role_ids.append(role.id)
        return role

    def add_channel(self, name: str, *, overwrites: tuple[Overwrite, ...] = ()) -> Channel:
        channel = self.world.add_channel(self.guild, name)
        channel.overwrites = list(overwrites)
        return channel

    def private_channel(self, name: str, *, readers: tuple[UserRef, ...] = ()) -> Channel:
        """A channel @everyone cannot see, readable by `readers` (the bot always reads it)."""
        allowed = (self.bot_user, *readers)
        return self.add_channel(
            name,
            overwrites=(
                Overwrite(self.guild.id, ROLE_OVERWRITE, deny=VIEW_CHANNEL),
                *(
                    Overwrite(self.user(ref).id, MEMBER_OVERWRITE, allow=VIEW_CHANNEL)
                    for ref in allowed
                ),
            ),
        )

    def overwrite(
        self, channel: ChannelRef, target: Role | UserRef, *, allow: int = 0, deny: int = 0
    ) -> Overwrite:
        """Add an overwrite for a role or member to a channel (before the bot connects)."""
        if isinstance(target, Role):
            entry = Overwrite(target.id, ROLE_OVERWRITE, allow, deny)
        else:
            entry = Overwrite(self.user(target).id, MEMBER_OVERWRITE, allow, deny)
        self.channel(channel).overwrites.append(entry)
        return entry

    def ready_shards(self) -> set[int]:
        """Shards with their guilds delivered on a live socket (0 for an unsharded session)."""
        return self.gateway.ready_shards()

    def threads(self, parent: ChannelRef | None = None) -> list[Channel]:
        parent_id = self.channel(parent).id if parent is not None else None
        found = [c for c in self.world.channels.values() if c.is_thread]
        return [t for t in found if parent_id in (None, t.parent_id)]

    def synced_commands(self, guild: bool = True) -> list[Command]:
        """Commands the bot registered for the guild (or globally with `guild=False`)."""
        guild_id = self.guild.id if guild else None
        return [c for c in self.world.commands.values() if c.guild_id == guild_id]

    # The gateway.

    async def wait_until_ready(self, timeout: float = 5.0) -> None:
        """Until the bot got READY and its GUILD_CREATEs (or RESUMED) on a live socket."""
        await self.world.changes.wait_for(
            lambda: self.gateway.connected, timeout, "the bot to connect and receive its guilds"
        )

    async def drop_connection(self, code: int = 4000) -> None:
        """Close the bot's gateway socket with a resumable close code; it should RESUME."""
        await self.gateway.drop(code)

    async def cut_connection(self) -> None:
        """Cut the bot's gateway TCP connection without a close frame; it should RESUME."""
        await self.gateway.cut()

    async def invalidate_session(self, resumable: bool = False) -> None:
        """Send op 9 INVALID_SESSION; not resumable, the bot must IDENTIFY again."""
        await self.gateway.invalidate(resumable)

    @property
    def identify_count(self) -> int:
        return self.gateway.identify_count

    @property
    def resume_count(self) -> int:
        return self.gateway.resume_count

    # Reading results.

    @property
    def interactions(self) -> list[Interaction]:
        return list(self.hub.interactions.values())

    def messages(self, channel: ChannelRef, *, include_ephemeral: bool = False) -> list[Message]:
        """The channel's messages, oldest first, with their current (edited) content."""
        found = (self.world.messages[i] for i in self.channel(channel).message_ids)
        return [m for m in found if not m.deleted and (include_ephemeral or not m.ephemeral)]

    async def wait_for_message(
        self,
        channel: ChannelRef,
        predicate: Callable[[Message], bool] | str | None = None,
        timeout: float = 5.0,
        *,
        include_ephemeral: bool = False,
    ) -> Message:
        """The first message in the channel (old or new) matching `predicate`, which may be a
        substring of the content; None matches any message."""

        def matches(message: Message) -> bool:
            if isinstance(predicate, str):
                return predicate in message.content
            return predicate is None or predicate(message)

        def first() -> Message | None:
            candidates = self.messages(channel, include_ephemeral=include_ephemeral)
            return next((m for m in candidates if matches(m)), None)

        where = self.channel(channel).name
        return await self.world.changes.wait_for(first, timeout, f"a message in #{where}")

    async def wait_until(
        self, check: Callable[[], T | None], timeout: float = 5.0, what: str = "a condition"
    ) -> T:
        """Wait for any condition on the fake (re-checked whenever its state changes)."""
        return await self.world.changes.wait_for(check, timeout, what)

    @property
    def rest_calls(self) -> list[RestCall]:
        return self.world.rest_log

    def unknown_routes(self) -> list[RestCall]:
        """REST calls no route of the fake matched (each got a 404)."""
        return [c for c in self.world.rest_log if not c.matched]

    def errors(self) -> list[RestCall]:
        """REST calls answered with an error, e.g. a late interaction callback (10062)."""
        return [c for c in self.world.rest_log if c.status >= 400]

    def unsafe_mentions(self) -> list[mentions.MentionLeak]:
        """Bot messages whose content pings @everyone, @here, roles or users because their
        allowed_mentions (or its absence, the default) lets it; a user the message names in
        `allowed_mentions.users` is a deliberate ping, not a leak."""
        return mentions.leaks(list(self.world.messages.values()), self.bot_user.id)
