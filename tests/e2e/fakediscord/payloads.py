"""Discord JSON shapes for the fake's objects, with the keys discord.py 2.7 reads unguarded."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .state import Channel, Guild, Member, Message, Role, StoredFile, User, World

JSON = dict[str, Any]


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def user(u: User) -> JSON:
    return {
        "id": str(u.id),
        "username": u.name,
        "discriminator": "0",
        "global_name": u.name,
        "avatar": None,
        "bot": u.bot,
        "public_flags": 0,
        "flags": 0,
    }


def role(r: Role) -> JSON:
    return {
        "id": str(r.id),
        "name": r.name,
        "color": 0,
        "hoist": False,
        "icon": None,
        "unicode_emoji": None,
        "position": r.position,
        "permissions": str(r.permissions),
        "managed": False,
        "mentionable": r.mentionable,
        "flags": 0,
    }


def member(world: World, m: Member, *, with_user: bool = True, permissions: bool = False) -> JSON:
    data: JSON = {
        "roles": [str(role_id) for role_id in m.role_ids],
        "joined_at": iso(m.joined_at),
        "nick": m.nick,
        "avatar": None,
        "deaf": False,
        "mute": False,
        "flags": 0,
        "pending": False,
        "premium_since": None,
        "communication_disabled_until": None,
    }
    if with_user:
        data["user"] = user(m.user)
    if permissions:
        data["permissions"] = str(world.guilds[m.guild_id].permissions_of(m.user.id))
    return data


def channel(c: Channel) -> JSON:
    data: JSON = {
        "id": str(c.id),
        "type": c.type,
        "guild_id": str(c.guild_id),
        "name": c.name,
        "parent_id": str(c.parent_id) if c.parent_id else None,
        "rate_limit_per_user": 0,
        "last_message_id": str(c.message_ids[-1]) if c.message_ids else None,
        "flags": 0,
    }
    if not c.is_thread:
        return data | {
            "position": c.position,
            "topic": None,
            "nsfw": False,
            "permission_overwrites": [
                {"id": str(o.id), "type": o.type, "allow": str(o.allow), "deny": str(o.deny)}
                for o in c.overwrites
            ],
        }
    return data | {
        "owner_id": str(c.owner_id),
        "message_count": len(c.message_ids),
        "total_message_sent": len(c.message_ids),
        "member_count": len(c.member_ids),
        "thread_metadata": {
            "archived": False,
            "auto_archive_duration": 1440,
            "archive_timestamp": iso(c.created_at),
            "locked": False,
            "invitable": True,
            "create_timestamp": iso(c.created_at),
        },
    }


def guild(g: Guild) -> JSON:
    """The REST guild object (GET /guilds/{id})."""
    return {
        "id": str(g.id),
        "name": g.name,
        "icon": None,
        "splash": None,
        "discovery_splash": None,
        "banner": None,
        "description": None,
        "owner_id": str(g.owner_id),
        "roles": [role(r) for r in g.roles.values()],
        "emojis": [],
        "stickers": [],
        "features": [],
        "verification_level": 0,
        "default_message_notifications": 1,
        "explicit_content_filter": 0,
        "mfa_level": 0,
        "nsfw_level": 0,
        "premium_tier": 0,
        "premium_subscription_count": 0,
        "preferred_locale": "en-US",
        "system_channel_id": None,
        "system_channel_flags": 0,
        "afk_channel_id": None,
        "afk_timeout": 300,
        "approximate_member_count": len(g.members),
    }


def guild_create(world: World, g: Guild) -> JSON:
    """The gateway GUILD_CREATE: the REST object plus channels, threads and members."""
    channels = world.guild_channels(g.id)
    return guild(g) | {
        "unavailable": False,
        "large": False,
        "member_count": len(g.members),
        "joined_at": iso(g.members[g.owner_id].joined_at),
        "channels": [channel(c) for c in channels if not c.is_thread],
        "threads": [channel(c) for c in channels if c.is_thread],
        "members": [member(world, m) for m in g.members.values()],
        "voice_states": [],
        "presences": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
        "soundboard_sounds": [],
    }


def attachment(f: StoredFile) -> JSON:
    return {
        "id": str(f.id),
        "filename": f.filename,
        "size": f.size,
        "url": f.url,
        "proxy_url": f.url,
        "content_type": f.content_type,
        "description": f.description,
    }


def message(world: World, m: Message) -> JSON:
    """A full message object; guild members get a `member` so discord.py builds a Member."""
    data: JSON = {
        "id": str(m.id),
        "channel_id": str(m.channel_id),
        "guild_id": str(m.guild_id),
        "author": user(m.author),
        "content": m.content,
        "timestamp": iso(m.created_at),
        "edited_timestamp": iso(m.edited_at),
        "tts": m.tts,
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "attachments": [attachment(f) for f in m.attachments],
        "embeds": m.embeds,
        "components": m.components,
        "pinned": False,
        "type": m.type,
        "flags": m.flags,
    }
    author_member = world.guilds[m.guild_id].members.get(m.author.id)
    if author_member is not None and m.webhook_id is None:
        data["member"] = member(world, author_member, with_user=False)
    if m.webhook_id is not None:
        data["webhook_id"] = str(m.webhook_id)
        data["application_id"] = str(m.webhook_id)
    if m.interaction_metadata is not None:
        data["interaction_metadata"] = m.interaction_metadata
    if m.message_reference is not None:
        data["message_reference"] = m.message_reference
    if m.thread_id is not None:
        data["thread"] = channel(world.channels[m.thread_id])
    return data


def reaction(world: World, m: Message, who: User, emoji: str, added: bool) -> JSON:
    """MESSAGE_REACTION_ADD/REMOVE data: a custom emoji given as `name:id` (or `<:name:id>`),
    anything else as a unicode emoji; only an added reaction carries the member."""
    name, _, emoji_id = emoji.strip("<>").removeprefix(":").partition(":")
    custom = emoji_id.isdigit()
    data: JSON = {
        "user_id": str(who.id),
        "channel_id": str(m.channel_id),
        "message_id": str(m.id),
        "guild_id": str(m.guild_id),
        "emoji": {"id": emoji_id, "name": name} if custom else {"id": None, "name": emoji},
        "burst": False,
        "type": 0,
    }
    if added:
        data["member"] = member(world, world.guilds[m.guild_id].members[who.id])
        data["message_author_id"] = str(m.author.id)
        data["burst_colors"] = []
    return data
