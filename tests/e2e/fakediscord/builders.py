"""INTERACTION_CREATE payloads as Discord builds them, typed from the bot's synced commands."""

from __future__ import annotations

from typing import Any, NamedTuple

from . import payloads
from .limits import ATTACHMENT_SIZE_LIMIT
from .messages import walk_components
from .state import Channel, Command, Message, Role, User, World

JSON = dict[str, Any]
SUBCOMMAND, GROUP = 1, 2
STRING, INTEGER, BOOLEAN, USER, CHANNEL, ROLE, MENTIONABLE, NUMBER, ATTACHMENT = range(3, 12)
GUILD_CONTEXT = 0


class Upload(NamedTuple):
    """A file a test attaches to a slash command option; the fake serves it back by URL."""

    filename: str
    data: bytes
    content_type: str = "application/octet-stream"


def envelope(
    world: World,
    bot: User,
    *,
    ids: tuple[int, str],
    kind: int,
    user: User,
    channel: Channel,
    data: JSON,
    message: Message | None = None,
) -> JSON:
    """The fields every guild interaction carries (discord.py needs `attachment_size_limit`)."""
    guild = world.guilds[channel.guild_id]
    interaction_id, token = ids
    # Interactions carry permissions in their channel (a thread's are its parent's).
    where = world.channels[channel.parent_id] if channel.parent_id else channel
    member = payloads.member(world, guild.members[user.id], permissions=True)
    member["permissions"] = str(guild.permissions_in(user.id, where))
    payload: JSON = {
        "id": str(interaction_id),
        "application_id": str(bot.id),
        "type": kind,
        "data": data,
        "guild_id": str(guild.id),
        "guild": {"id": str(guild.id), "locale": "en-US", "features": []},
        "guild_locale": "en-US",
        "channel_id": str(channel.id),
        "channel": payloads.channel(channel),
        "member": member,
        "token": token,
        "version": 1,
        "app_permissions": str(guild.permissions_in(bot.id, where)),
        "locale": "en-US",
        "entitlements": [],
        "entitlement_sku_ids": [],
        "authorizing_integration_owners": {"0": str(guild.id)},
        "context": GUILD_CONTEXT,
        "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
    }
    if message is not None:
        payload["message"] = payloads.message(world, message)
    return payload


def slash_data(
    world: World,
    command: Command,
    path: list[str],
    options: dict[str, Any],
    channel: Channel,
    focused: str | None = None,
) -> JSON:
    """`data` of a chat input command: subcommand nesting, typed option values, `resolved`."""
    definitions: list[JSON] = command.payload.get("options", [])
    chain = []
    for name in path:
        node = find_option(definitions, name, command.name)
        if node["type"] not in (SUBCOMMAND, GROUP):
            raise LookupError(f"{name!r} is an option of /{command.name}, not a subcommand")
        chain.append(node)
        definitions = node.get("options", [])
    resolved: JSON = {}
    values = []
    for name, value in options.items():
        definition = find_option(definitions, name, command.name)
        values.append(typed(world, definition, value, resolved, channel, focused == name))
    for node in reversed(chain):
        values = [{"name": node["name"], "type": node["type"], "options": values}]
    data: JSON = {"id": str(command.id), "name": command.name, "type": 1, "options": values}
    if command.guild_id is not None:
        data["guild_id"] = str(command.guild_id)
    if resolved:
        data["resolved"] = resolved
    return data


def find_option(definitions: list[JSON], name: str, command: str) -> JSON:
    for definition in definitions:
        if definition["name"] == name:
            return definition
    known = [d["name"] for d in definitions]
    raise LookupError(f"/{command} has no option or subcommand {name!r}; it has {known}")


def typed(
    world: World, definition: JSON, value: Any, resolved: JSON, channel: Channel, focused: bool
) -> JSON:
    """One option as Discord sends it; a focused (autocomplete) option is the raw typed text."""
    kind = definition["type"]
    option: JSON = {"name": definition["name"], "type": kind}
    guild = world.guilds[channel.guild_id]
    if focused:
        return option | {"value": str(value), "focused": True}
    if kind in (USER, MENTIONABLE) and not isinstance(value, Role):
        user = world.user(value)
        resolved.setdefault("users", {})[str(user.id)] = payloads.user(user)
        member = payloads.member(world, guild.members[user.id], with_user=False, permissions=True)
        resolved.setdefault("members", {})[str(user.id)] = member
        return option | {"value": str(user.id)}
    if kind in (ROLE, MENTIONABLE):
        role = world.role(value)
        resolved.setdefault("roles", {})[str(role.id)] = payloads.role(role)
        return option | {"value": str(role.id)}
    if kind == CHANNEL:
        target = world.channel(value)
        entry = payloads.channel(target) | {"permissions": str((1 << 53) - 1)}
        resolved.setdefault("channels", {})[str(target.id)] = entry
        return option | {"value": str(target.id)}
    if kind == ATTACHMENT:
        upload = Upload(*value)
        stored = world.store_file(channel.id, upload.filename, upload.data, upload.content_type)
        entry = payloads.attachment(stored) | {"ephemeral": True}
        resolved.setdefault("attachments", {})[str(stored.id)] = entry
        return option | {"value": str(stored.id)}
    converters = {STRING: str, INTEGER: int, BOOLEAN: bool, NUMBER: float}
    return option | {"value": converters[kind](value)}


def context_menu_data(
    world: World, command: Command, target: Message | User, channel: Channel
) -> JSON:
    """A message (type 3) or user (type 2) command aimed at `target`, with it resolved."""
    data: JSON = {
        "id": str(command.id),
        "name": command.name,
        "type": command.type,
        "target_id": str(target.id),
    }
    if isinstance(target, Message):
        data["resolved"] = {"messages": {str(target.id): payloads.message(world, target)}}
    else:
        member = world.guilds[channel.guild_id].members.get(target.id)
        data["resolved"] = {"users": {str(target.id): payloads.user(target)}}
        if member is not None:
            member_data = payloads.member(world, member, with_user=False, permissions=True)
            data["resolved"]["members"] = {str(target.id): member_data}
    if command.guild_id is not None:
        data["guild_id"] = str(command.guild_id)
    return data


def modal_submission(modal: JSON, values: dict[str, str]) -> JSON:
    """What Discord sends when a user fills `modal` (the bot's type 9 data) with `values`.

    The layout mirrors the modal (action rows or labels); the client's own checks apply:
    required inputs must be filled and lengths must fit min_length/max_length.
    """
    inputs = {c["custom_id"]: c for c in walk_components(modal["components"]) if c["type"] == 4}
    unknown = set(values) - set(inputs)
    if unknown:
        raise LookupError(f"modal {modal['custom_id']!r} has no inputs {sorted(unknown)}")
    for custom_id, text_input in inputs.items():
        value = values.get(custom_id, "")
        low, high = text_input.get("min_length", 0), text_input.get("max_length", 4000)
        if text_input.get("required", True) and not value:
            raise ValueError(f"Discord would not submit modal input {custom_id!r} empty")
        if value and not low <= len(value) <= high:
            raise ValueError(f"Discord would not submit {custom_id!r}={value!r} ({low}-{high})")

    def answer(component: JSON) -> JSON:
        custom_id = component["custom_id"]
        return {"type": 4, "custom_id": custom_id, "value": values.get(custom_id, "")}

    rows = []
    for top in modal["components"]:
        if top["type"] == 1:
            rows.append({"type": 1, "components": [answer(c) for c in top["components"]]})
        elif top["type"] == 18 and top["component"]["type"] == 4:
            rows.append({"type": 18, "component": answer(top["component"])})
    return {"custom_id": modal["custom_id"], "components": rows}
