"""What simulated users do: slash commands, autocomplete, clicks, modals, context menus and
plain messages, each sent to the bot as Discord would."""

# ruff: noqa: ASYNC109 -- a test says how long it will wait, so timeouts are parameters.

from __future__ import annotations

import asyncio
import secrets
import time
from datetime import UTC, datetime
from typing import Any

from . import builders, messages, payloads
from .gateway import Gateway
from .hub import Hub
from .interactions import MODAL, Interaction
from .state import Channel, Guild, Message, User, World

JSON = dict[str, Any]
MessageRef = Message | int
UserRef = User | int | str
ChannelRef = Channel | int | str
# Interaction types.
APPLICATION_COMMAND, COMPONENT, AUTOCOMPLETE, MODAL_SUBMIT = 2, 3, 4, 5


class UserActions:
    """Mixed into `FakeDiscord`; users, channels and messages may be given by object, id or
    name. Each action returns the `Interaction` record (or the posted `Message`)."""

    world: World
    hub: Hub
    gateway: Gateway
    bot_user: User
    guild: Guild
    reaction_time: float

    async def slash(
        self,
        user: UserRef,
        channel: ChannelRef,
        command: str,
        subcommand: str | None = None,
        *,
        options: dict[str, Any] | None = None,
        subcommand_group: str | None = None,
    ) -> Interaction:
        """Run `/command [group] [subcommand]` with `options` typed from the synced command.

        Attachment options take `Upload(filename, data)` (or a `(filename, data)` tuple).
        """
        target = self.world.channel(channel)
        synced = self.world.command(command, 1, target.guild_id)
        path = [p for p in (subcommand_group, subcommand) if p]
        data = builders.slash_data(self.world, synced, path, options or {}, target)
        return await self._interact(APPLICATION_COMMAND, user, target, data)

    async def autocomplete(
        self,
        user: UserRef,
        channel: ChannelRef,
        command: str,
        subcommand: str | None = None,
        *,
        focused: str,
        options: dict[str, Any],
        subcommand_group: str | None = None,
        timeout: float = 5.0,
    ) -> list[JSON]:
        """Type into option `focused` (its text is `options[focused]`); returns the choices."""
        target = self.world.channel(channel)
        synced = self.world.command(command, 1, target.guild_id)
        path = [p for p in (subcommand_group, subcommand) if p]
        data = builders.slash_data(self.world, synced, path, options, target, focused)
        ix = await self._interact(AUTOCOMPLETE, user, target, data)
        await ix.wait_response(timeout)
        return ix.choices

    async def click(self, user: UserRef, message: MessageRef, custom_id: str) -> Interaction:
        """Press the component `custom_id` on `message`."""
        source = self.world.message(message)
        kind = messages.component_type(source, custom_id)
        await self._react_after(source.edited_at or source.created_at)
        data = {"custom_id": custom_id, "component_type": kind}
        return await self._interact(
            COMPONENT, user, self.world.channel(source.channel_id), data, source
        )

    async def submit_modal(
        self,
        user: UserRef,
        channel: ChannelRef,
        custom_id: str,
        values: dict[str, str],
        *,
        message: MessageRef | None = None,
    ) -> Interaction:
        """Submit the modal `custom_id` the bot last opened for `user`; `message` is the one
        whose button opened it (needed when the bot answers by updating that message)."""
        target = self.world.user(user)
        opened = [
            (callback.data, callback.at)
            for ix in self.hub.interactions.values()
            if ix.user.id == target.id
            for callback in ix.callbacks
            if callback.type == MODAL and callback.data.get("custom_id") == custom_id
        ]
        if not opened:
            raise LookupError(f"the bot never opened modal {custom_id!r} for {target.name}")
        modal, shown_at = opened[-1]
        data = builders.modal_submission(modal, values)
        await self._react_after(shown_at)
        source = self.world.message(message) if message is not None else None
        return await self._interact(MODAL_SUBMIT, target, self.world.channel(channel), data, source)

    async def context_menu(
        self,
        user: UserRef,
        target: MessageRef | User,
        name: str,
        *,
        channel: ChannelRef | None = None,
    ) -> Interaction:
        """Run the message command `name` on a message, or the user command on a `User`
        (then in `channel`, by default the guild's first channel)."""
        if isinstance(target, User):
            where = self.world.channel(channel or self.world.guild_channels(self.guild.id)[0])
            resolved: Message | User = target
        else:
            resolved = self.world.message(target)
            where = self.world.channel(resolved.channel_id)
        kind = 2 if isinstance(resolved, User) else 3
        synced = self.world.command(name, kind, where.guild_id)
        data = builders.context_menu_data(self.world, synced, resolved, where)
        return await self._interact(APPLICATION_COMMAND, user, where, data)

    async def send_message(self, user: UserRef, channel: ChannelRef, content: str) -> Message:
        """A user posts `content`; the bot gets MESSAGE_CREATE (content blanked without the
        message content intent unless the bot is mentioned, as on Discord)."""
        author = self.world.user(user)
        message = self.hub.new_message(self.world.channel(channel), author)
        messages.apply(self.world, message, {"content": content}, {}, creating=True)
        self.world.add_message(message)
        await self.hub.publish(message)
        self.world.changes.notify()
        return message

    async def react(self, user: UserRef, message: MessageRef, emoji: str) -> bool:
        """`user` adds `emoji` to `message`: MESSAGE_REACTION_ADD, unless they already had;
        True when the event was sent."""
        return await self._reaction(user, message, emoji, added=True)

    async def unreact(self, user: UserRef, message: MessageRef, emoji: str) -> bool:
        """`user` takes `emoji` off `message`: MESSAGE_REACTION_REMOVE, if they had it."""
        return await self._reaction(user, message, emoji, added=False)

    async def _reaction(self, user: UserRef, message: MessageRef, emoji: str, added: bool) -> bool:
        who = self.world.user(user)
        shown = self.world.message(message)
        users = shown.reacted_by.setdefault(emoji, [])
        if (who.id in users) == added:
            return False
        if added:
            users.append(who.id)
        else:
            users.remove(who.id)
        data = payloads.reaction(self.world, shown, who, emoji, added)
        event = "MESSAGE_REACTION_ADD" if added else "MESSAGE_REACTION_REMOVE"
        await self.gateway.dispatch(event, data, shown.guild_id)
        self.world.changes.notify()
        return True

    async def _react_after(self, shown: datetime | float) -> None:
        """Sleep until `reaction_time` has passed since `shown` (a message time or a
        monotonic callback time)."""
        if isinstance(shown, datetime):
            elapsed = (datetime.now(UTC) - shown).total_seconds()
        else:
            elapsed = time.monotonic() - shown
        if elapsed < self.reaction_time:
            await asyncio.sleep(self.reaction_time - elapsed)

    async def _interact(
        self,
        kind: int,
        user: UserRef,
        channel: Channel,
        data: JSON,
        message: Message | None = None,
    ) -> Interaction:
        if not self.gateway.sessions:
            raise RuntimeError("no bot has connected yet: await fake.wait_until_ready() first")
        who = self.world.user(user)
        ids = (self.world.ids.next(), secrets.token_urlsafe(32))
        payload = builders.envelope(
            self.world,
            self.bot_user,
            ids=ids,
            kind=kind,
            user=who,
            channel=channel,
            data=data,
            message=message,
        )
        source_id = message.id if message is not None else None
        ix = Interaction(ids[0], ids[1], kind, who, channel.id, payload, self.world, source_id)
        self.hub.interactions[ix.id] = ix
        await self.gateway.dispatch("INTERACTION_CREATE", payload, channel.guild_id)
        return ix
