"""REST routes for login, gateway discovery, command sync, guilds, users and served files."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from . import limits, payloads
from .hub import Hub
from .state import Command, Guild
from .wire import API_PREFIX, body_of, not_found, reply

JSON = dict[str, Any]


class CoreApi:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.world = hub.world

    def routes(self) -> list[web.RouteDef]:
        api = API_PREFIX
        commands = f"{api}/applications/{{app}}/commands"
        guild_commands = f"{api}/applications/{{app}}/guilds/{{guild}}/commands"
        return [
            web.get(f"{api}/gateway", self.gateway),
            web.get(f"{api}/gateway/bot", self.gateway_bot),
            web.get(f"{api}/users/@me", self.me),
            web.get(f"{api}/users/{{user}}", self.user),
            web.get(f"{api}/oauth2/applications/@me", self.application),
            web.get(commands, self.list_commands),
            web.put(commands, self.overwrite_commands),
            web.get(guild_commands, self.list_commands),
            web.put(guild_commands, self.overwrite_commands),
            web.get(f"{api}/guilds/{{guild}}", self.guild),
            web.get(f"{api}/guilds/{{guild}}/channels", self.guild_channels),
            web.get(f"{api}/guilds/{{guild}}/roles", self.guild_roles),
            web.get(f"{api}/guilds/{{guild}}/members/{{user}}", self.member),
            web.get("/attachments/{channel}/{file}/{filename}", self.attachment),
        ]

    async def gateway(self, request: web.Request) -> web.Response:
        return reply({"url": self.hub.gateway.url})

    async def gateway_bot(self, request: web.Request) -> web.Response:
        limit = {"total": 1000, "remaining": 1000, "reset_after": 0, "max_concurrency": 1}
        return reply({"url": self.hub.gateway.url, "shards": 1, "session_start_limit": limit})

    async def me(self, request: web.Request) -> web.Response:
        extra = {"verified": True, "mfa_enabled": False, "locale": "en-US", "email": None}
        return reply(payloads.user(self.hub.bot) | extra)

    async def user(self, request: web.Request) -> web.Response:
        user = self.world.users.get(int(request.match_info["user"]))
        if user is None:
            raise not_found("User", 10013)
        return reply(payloads.user(user))

    async def application(self, request: web.Request) -> web.Response:
        bot = self.hub.bot
        owner = next(u for u in self.world.users.values() if not u.bot)
        return reply(
            {
                "id": str(bot.id),
                "name": bot.name,
                "description": "",
                "icon": None,
                "bot_public": True,
                "bot_require_code_grant": False,
                "owner": payloads.user(owner),
                "verify_key": "0" * 64,
                "flags": 0,
                "team": None,
                "bot": payloads.user(bot),
            }
        )

    async def list_commands(self, request: web.Request) -> web.Response:
        guild_id = self._command_guild(request)
        found = [c.payload for c in self.world.commands.values() if c.guild_id == guild_id]
        return reply(found)

    async def overwrite_commands(self, request: web.Request) -> web.Response:
        """A bulk overwrite replaces the scope's commands; Discord keeps ids of unchanged names."""
        guild_id = self._command_guild(request)
        incoming: list[JSON] = body_of(request).json or []
        limits.check_commands(incoming)
        old = {(c.name, c.type): c for c in self.world.commands.values() if c.guild_id == guild_id}
        for command in old.values():
            del self.world.commands[command.id]
        for data in incoming:
            kind = int(data.get("type", 1))
            previous = old.get((data["name"], kind))
            command_id = previous.id if previous else self.world.ids.next()
            payload = {
                "default_member_permissions": None,
                "nsfw": False,
                "description": "",
                "options": [],
            } | data
            payload |= {
                "id": str(command_id),
                "application_id": str(self.hub.application_id),
                "type": kind,
                "version": str(self.world.ids.next()),
            }
            if guild_id is not None:
                payload["guild_id"] = str(guild_id)
            self.world.commands[command_id] = Command(
                command_id, data["name"], kind, guild_id, payload
            )
        return await self.list_commands(request)

    async def guild(self, request: web.Request) -> web.Response:
        return reply(payloads.guild(self._guild(request)))

    async def guild_channels(self, request: web.Request) -> web.Response:
        channels = self.world.guild_channels(self._guild(request).id)
        return reply([payloads.channel(c) for c in channels if not c.is_thread])

    async def guild_roles(self, request: web.Request) -> web.Response:
        return reply([payloads.role(r) for r in self._guild(request).roles.values()])

    async def member(self, request: web.Request) -> web.Response:
        member = self._guild(request).members.get(int(request.match_info["user"]))
        if member is None:
            raise not_found("Member", 10007)
        return reply(payloads.member(self.world, member))

    async def attachment(self, request: web.Request) -> web.Response:
        stored = self.world.files.get(int(request.match_info["file"]))
        if stored is None or stored.filename != request.match_info["filename"]:
            raise not_found("Attachment", 0)
        return web.Response(body=stored.data, content_type=stored.content_type)

    def _guild(self, request: web.Request) -> Guild:
        guild = self.world.guilds.get(int(request.match_info["guild"]))
        if guild is None:
            raise not_found("Guild", 10004)
        return guild

    def _command_guild(self, request: web.Request) -> int | None:
        if request.match_info["app"] != str(self.hub.application_id):
            raise not_found("Application", 10002)
        return self._guild(request).id if "guild" in request.match_info else None
