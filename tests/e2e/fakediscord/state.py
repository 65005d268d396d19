"""The fake's world: users, guilds, channels, messages, files, commands and the REST log.

Everything lives in plain dataclasses so tests can inspect it directly; payload rendering
is kept in `payloads.py` so this module stays a data model.
"""

# ruff: noqa: ASYNC109 -- a test says how long it will wait, so timeouts are parameters.

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

DISCORD_EPOCH_MS = 1420070400000
TEXT_CHANNEL = 0
PUBLIC_THREAD = 11
PRIVATE_THREAD = 12
ADMINISTRATOR = 1 << 3
VIEW_CHANNEL = 1 << 10
ALL_PERMISSIONS = (1 << 53) - 1
ROLE_OVERWRITE, MEMBER_OVERWRITE = 0, 1
# Invite, react, view, send, embed, attach, history, external emoji, connect, speak, nickname,
# application commands, public threads, send in threads: roughly Discord's @everyone default.
EVERYONE_PERMISSIONS = 0x488435CC41
EPHEMERAL = 1 << 6
LOADING = 1 << 7

T = TypeVar("T")


class Snowflakes:
    """Time-based ids, so discord.py's `created_at` on fake objects reads as "now"."""

    def __init__(self) -> None:
        self._last = 0

    def next(self) -> int:
        value = (int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22
        self._last = max(value, self._last + 1)
        return self._last

    def on_shard(self, shard_id: int, shard_count: int) -> int:
        """The next id whose guild Discord routes to `shard_id`: (id >> 22) % count (a few
        milliseconds ahead, at most)."""
        millis = (self.next() >> 22) + 1
        millis += (shard_id - millis) % shard_count
        self._last = millis << 22
        return self._last


class Changes:
    """Wakes waiters whenever the world changes, so tests poll predicates without sleeping."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait_for(self, check: Callable[[], T | None], timeout: float, what: str) -> T:
        """Return the first truthy `check()` result; raise TimeoutError naming `what`."""
        try:
            async with asyncio.timeout(timeout):
                while True:
                    event = self._event
                    result = check()
                    if result:
                        return result
                    await event.wait()
        except TimeoutError:
            raise TimeoutError(
                f"fake Discord: timed out after {timeout}s waiting for {what}"
            ) from None


@dataclass
class User:
    id: int
    name: str
    bot: bool = False

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"


@dataclass
class Role:
    id: int
    guild_id: int
    name: str
    permissions: int = 0
    position: int = 0
    mentionable: bool = False


@dataclass
class Member:
    user: User
    guild_id: int
    role_ids: list[int]
    joined_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    nick: str | None = None


@dataclass
class Overwrite:
    """A channel's permission overwrite for a role (type 0) or a member (type 1)."""

    id: int
    type: int = ROLE_OVERWRITE
    allow: int = 0
    deny: int = 0


@dataclass
class Channel:
    """A text channel or a thread (threads have a parent and an owner; their permissions are
    the parent's)."""

    id: int
    guild_id: int
    name: str
    type: int = TEXT_CHANNEL
    position: int = 0
    parent_id: int | None = None
    owner_id: int | None = None
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    member_ids: set[int] = field(default_factory=set)
    message_ids: list[int] = field(default_factory=list)
    overwrites: list[Overwrite] = field(default_factory=list)

    @property
    def is_thread(self) -> bool:
        return self.type in (PUBLIC_THREAD, PRIVATE_THREAD)

    @property
    def mention(self) -> str:
        return f"<#{self.id}>"


@dataclass
class Guild:
    id: int
    name: str
    owner_id: int
    roles: dict[int, Role] = field(default_factory=dict)
    members: dict[int, Member] = field(default_factory=dict)

    @property
    def default_role(self) -> Role:
        return self.roles[self.id]

    def permissions_of(self, user_id: int) -> int:
        """Guild-level permissions; owners and administrators get everything."""
        member = self.members[user_id]
        value = self.default_role.permissions
        for role_id in member.role_ids:
            value |= self.roles[role_id].permissions
        if user_id == self.owner_id or value & ADMINISTRATOR:
            return ALL_PERMISSIONS
        return value

    def permissions_in(self, user_id: int, channel: Channel) -> int:
        """Permissions in a channel, as Discord computes them: guild permissions, then the
        @everyone overwrite, the member's role overwrites together, the member's own. (Pass a
        thread's parent for a thread.)"""
        value = self.permissions_of(user_id)
        if value == ALL_PERMISSIONS:
            return value
        roles = set(self.members[user_id].role_ids)
        everyone = [o for o in channel.overwrites if o.type == ROLE_OVERWRITE and o.id == self.id]
        for_roles = [o for o in channel.overwrites if o.type == ROLE_OVERWRITE and o.id in roles]
        own = [o for o in channel.overwrites if o.type == MEMBER_OVERWRITE and o.id == user_id]
        for group in (everyone, for_roles, own):
            deny = allow = 0
            for overwrite in group:
                deny |= overwrite.deny
                allow |= overwrite.allow
            value = (value & ~deny) | allow
        return value


@dataclass
class StoredFile:
    """An uploaded file, served back by the fake under `url`."""

    id: int
    filename: str
    data: bytes
    url: str
    content_type: str = "application/octet-stream"
    description: str | None = None

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass
class Revision:
    """One write of a message's content, with the allowed_mentions that came with it."""

    content: str
    allowed_mentions: dict[str, Any] | None
    at: datetime


@dataclass
class Message:
    id: int
    channel_id: int
    guild_id: int
    author: User
    content: str = ""
    embeds: list[dict[str, Any]] = field(default_factory=list)
    components: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[StoredFile] = field(default_factory=list)
    flags: int = 0
    type: int = 0
    tts: bool = False
    message_reference: dict[str, Any] | None = None
    interaction_id: int | None = None
    interaction_metadata: dict[str, Any] | None = None
    webhook_id: int | None = None
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    edited_at: datetime | None = None
    revisions: list[Revision] = field(default_factory=list)
    reactions: list[str] = field(default_factory=list)
    reacted_by: dict[str, list[int]] = field(default_factory=dict)
    """Users' reactions: emoji -> ids of the users who gave it (the bot's are `reactions`)."""
    thread_id: int | None = None
    deleted: bool = False

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & EPHEMERAL)

    @property
    def allowed_mentions(self) -> dict[str, Any] | None:
        """As sent with the latest content write (None: Discord's default, which pings)."""
        return self.revisions[-1].allowed_mentions if self.revisions else None

    @property
    def loading(self) -> bool:
        """True while a deferred ("thinking") response has not been edited yet."""
        return bool(self.flags & LOADING)


@dataclass
class Command:
    """An application command as registered by a bulk overwrite (the payload has ids added)."""

    id: int
    name: str
    type: int
    guild_id: int | None
    payload: dict[str, Any]


@dataclass
class RestCall:
    method: str
    path: str
    query: dict[str, str]
    json: Any
    files: list[str]
    at: float
    status: int = 0
    matched: bool = True
    error: Any = None


@dataclass
class World:
    """All state of the fake; `changes` fires after every mutation made through the fake."""

    public_url: str = ""
    ids: Snowflakes = field(default_factory=Snowflakes)
    users: dict[int, User] = field(default_factory=dict)
    guilds: dict[int, Guild] = field(default_factory=dict)
    channels: dict[int, Channel] = field(default_factory=dict)
    messages: dict[int, Message] = field(default_factory=dict)
    files: dict[int, StoredFile] = field(default_factory=dict)
    commands: dict[int, Command] = field(default_factory=dict)
    rest_log: list[RestCall] = field(default_factory=list)
    changes: Changes = field(default_factory=Changes)

    def add_user(self, name: str, *, bot: bool = False) -> User:
        user = User(self.ids.next(), name, bot)
        self.users[user.id] = user
        return user

    def add_guild(self, name: str, owner: User, *, shard: tuple[int, int] | None = None) -> Guild:
        """A guild; `shard` = (shard id, shard count) picks an id Discord routes to that shard."""
        guild_id = self.ids.next() if shard is None else self.ids.on_shard(*shard)
        guild = Guild(guild_id, name, owner.id)
        # Discord's @everyone role shares the guild's id; its permissions are the baseline.
        guild.roles[guild_id] = Role(
            guild_id, guild_id, "@everyone", permissions=EVERYONE_PERMISSIONS
        )
        self.guilds[guild_id] = guild
        self.add_member(guild, owner)
        return guild

    def add_role(self, guild: Guild, name: str, *, permissions: int = 0) -> Role:
        role = Role(self.ids.next(), guild.id, name, permissions, position=len(guild.roles))
        guild.roles[role.id] = role
        return role

    def add_member(self, guild: Guild, user: User, roles: tuple[Role, ...] = ()) -> Member:
        member = Member(user, guild.id, [role.id for role in roles])
        guild.members[user.id] = member
        return member

    def add_channel(self, guild: Guild, name: str) -> Channel:
        position = sum(1 for c in self.channels.values() if c.guild_id == guild.id)
        channel = Channel(self.ids.next(), guild.id, name, position=position)
        self.channels[channel.id] = channel
        return channel

    def add_thread(
        self,
        parent: Channel,
        name: str,
        owner: User,
        *,
        private: bool,
        thread_id: int | None = None,
    ) -> Channel:
        """A thread; one started from a message shares that message's id, as on Discord."""
        thread = Channel(
            thread_id or self.ids.next(),
            parent.guild_id,
            name,
            type=PRIVATE_THREAD if private else PUBLIC_THREAD,
            parent_id=parent.id,
            owner_id=owner.id,
            member_ids={owner.id},
        )
        self.channels[thread.id] = thread
        return thread

    def add_message(self, message: Message) -> Message:
        self.messages[message.id] = message
        self.channels[message.channel_id].message_ids.append(message.id)
        return message

    def store_file(
        self, channel_id: int, filename: str, data: bytes, content_type: str | None = None
    ) -> StoredFile:
        file_id = self.ids.next()
        url = f"{self.public_url}/attachments/{channel_id}/{file_id}/{filename}"
        stored = StoredFile(
            file_id, filename, data, url, content_type or "application/octet-stream"
        )
        self.files[file_id] = stored
        return stored

    def guild_channels(self, guild_id: int) -> list[Channel]:
        return [c for c in self.channels.values() if c.guild_id == guild_id]

    def user(self, ref: User | int | str) -> User:
        """Look a user up by object, id or name."""
        return self._find(ref, User, self.users)

    def channel(self, ref: Channel | int | str) -> Channel:
        """Look a channel or thread up by object, id or name."""
        return self._find(ref, Channel, self.channels)

    def message(self, ref: Message | int) -> Message:
        return ref if isinstance(ref, Message) else self.messages[ref]

    def role(self, ref: Role | int | str) -> Role:
        roles = {r.id: r for g in self.guilds.values() for r in g.roles.values()}
        return self._find(ref, Role, roles)

    def command(self, name: str, type_: int, guild_id: int) -> Command:
        """A registered command as Discord would pick it: the guild's own first, then global."""
        candidates = [c for c in self.commands.values() if c.name == name and c.type == type_]
        for command in sorted(candidates, key=lambda c: c.guild_id is None):
            if command.guild_id in (guild_id, None):
                return command
        registered = sorted({c.name for c in self.commands.values()})
        raise LookupError(f"no command {name!r} (type {type_}) synced; registered: {registered}")

    @staticmethod
    def _find(ref: Any, kind: type[T], table: dict[int, T]) -> T:
        if isinstance(ref, kind):
            return ref
        if isinstance(ref, int) and ref in table:
            return table[ref]
        for item in table.values():
            if getattr(item, "name", None) == ref:
                return item
        names = sorted(str(getattr(item, "name", "?")) for item in table.values())
        raise LookupError(f"no {kind.__name__.lower()} {ref!r}; known: {names}")
