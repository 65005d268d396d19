"""The gateway websocket: HELLO, IDENTIFY -> READY + GUILD_CREATE, heartbeats, RESUME, dispatch.

Frames are plain JSON text; discord.py asks for zlib-stream but only inflates binary frames.
Every dispatch is kept per session so a RESUME can replay what a dropped connection missed.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from . import payloads
from .state import User, World

JSON = dict[str, Any]
DISPATCH, HEARTBEAT, IDENTIFY, RESUME, REQUEST_MEMBERS = 0, 1, 2, 6, 8
INVALID_SESSION, HELLO, HEARTBEAT_ACK = 9, 10, 11
AUTHENTICATION_FAILED = 4004
GUILD_MESSAGES_INTENT = 1 << 9
MESSAGE_CONTENT_INTENT = 1 << 15
MESSAGE_EVENTS = ("MESSAGE_CREATE", "MESSAGE_UPDATE")
GUILD_MESSAGE_REACTIONS_INTENT = 1 << 10
REACTION_EVENTS = ("MESSAGE_REACTION_ADD", "MESSAGE_REACTION_REMOVE")


@dataclass
class Session:
    id: str
    shard: list[int] | None
    intents: int
    ws: web.WebSocketResponse | None = None
    transport: asyncio.BaseTransport | None = None
    seq: int = 0
    sent: list[JSON] = field(default_factory=list)
    ready: bool = False
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def owns(self, guild_id: int | None) -> bool:
        """Discord's shard routing: (guild_id >> 22) % shard_count; the rest go to shard 0."""
        if self.shard is None:
            return True
        shard_id, count = self.shard
        return shard_id == 0 if guild_id is None else (guild_id >> 22) % count == shard_id


class Gateway:
    def __init__(
        self, world: World, bot: User, token: str, url: str, heartbeat_ms: int = 41250
    ) -> None:
        self.world = world
        self.bot = bot
        self.token = token
        self.url = url
        self.heartbeat_ms = heartbeat_ms
        self.sessions: dict[str, Session] = {}
        self.identify_count = 0
        self.resume_count = 0

    @property
    def connected(self) -> bool:
        """A session has its guilds delivered and a live socket."""
        return any(s.ready and s.ws is not None for s in self.sessions.values())

    def ready_shards(self) -> set[int]:
        """Shards of the live sessions that have their guilds (0 for an unsharded session)."""
        return {
            s.shard[0] if s.shard else 0
            for s in self.sessions.values()
            if s.ready and s.ws is not None
        }

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await send(ws, {"op": HELLO, "d": {"heartbeat_interval": self.heartbeat_ms}})
        session: Session | None = None
        async for frame in ws:
            if frame.type is not WSMsgType.TEXT:
                continue
            packet = json.loads(frame.data)
            op, data = packet.get("op"), packet.get("d") or {}
            if op == HEARTBEAT:
                await send(ws, {"op": HEARTBEAT_ACK})
            elif op == IDENTIFY:
                session = await self._identify(ws, data)
            elif op == RESUME:
                session = await self._resume(ws, data)
            if session is not None and session.ws is ws:
                session.transport = request.transport
            elif op == REQUEST_MEMBERS and session is not None:
                await self._members_chunk(session, data)
        if session is not None and session.ws is ws:
            session.ws = None
        self.world.changes.notify()
        return ws

    async def dispatch(self, event: str, data: JSON, guild_id: int | None = None) -> None:
        """Send an event to every session owning `guild_id`; offline sessions keep it for RESUME."""
        for session in list(self.sessions.values()):
            visible = self._filter(session, event, data)
            if session.owns(guild_id) and visible is not None:
                async with session.lock:
                    await self._emit(session, event, visible)

    async def drop(self, code: int = 4000) -> None:
        """Close every socket with a resumable code, the way a network blip looks to the bot."""
        for session in self.sessions.values():
            ws, session.ws = session.ws, None
            if ws is not None:
                await ws.close(code=code)
        self.world.changes.notify()

    async def cut(self) -> None:
        """Cut the TCP connection with no close frame (the bot sees 1006, abnormal closure)."""
        for session in self.sessions.values():
            transport, session.ws, session.transport = session.transport, None, None
            if transport is not None:
                transport.abort()
        self.world.changes.notify()

    async def invalidate(self, resumable: bool) -> None:
        """Op 9 INVALID_SESSION on every live socket. Not resumable: the session is forgotten,
        so the bot must IDENTIFY again and events dispatched meanwhile are not replayed."""
        for session in list(self.sessions.values()):
            ws = session.ws
            if ws is None:
                continue
            if not resumable:
                session.ws = None
                del self.sessions[session.id]
            await send(ws, {"op": INVALID_SESSION, "d": resumable})
        self.world.changes.notify()

    async def close(self) -> None:
        await self.drop(code=1001)

    async def _identify(self, ws: web.WebSocketResponse, data: JSON) -> Session | None:
        if data.get("token") != self.token:
            await ws.close(code=AUTHENTICATION_FAILED, message=b"Authentication failed.")
            return None
        session = Session(secrets.token_hex(16), data.get("shard"), int(data.get("intents", 0)), ws)
        self.sessions[session.id] = session
        self.identify_count += 1
        guilds = [g for g in self.world.guilds.values() if session.owns(g.id)]
        ready: JSON = {
            "v": 10,
            "user": payloads.user(self.bot) | {"verified": True, "mfa_enabled": False},
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "session_id": session.id,
            "resume_gateway_url": self.url,
            "application": {"id": str(self.bot.id), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "presences": [],
        }
        if session.shard is not None:
            ready["shard"] = session.shard
        async with session.lock:
            await self._emit(session, "READY", ready)
            for guild in guilds:
                await self._emit(session, "GUILD_CREATE", payloads.guild_create(self.world, guild))
            session.ready = True
        self.world.changes.notify()
        return session

    async def _resume(self, ws: web.WebSocketResponse, data: JSON) -> Session | None:
        session = self.sessions.get(data.get("session_id", ""))
        if session is None or data.get("token") != self.token:
            await send(ws, {"op": INVALID_SESSION, "d": False})
            return None
        async with session.lock:
            session.ws = ws
            last_seen = data.get("seq") or 0
            for packet in session.sent:
                if packet["s"] > last_seen:
                    await send(ws, packet)
            await self._emit(session, "RESUMED", {})
        self.resume_count += 1
        self.world.changes.notify()
        return session

    async def _members_chunk(self, session: Session, data: JSON) -> None:
        guild = self.world.guilds[int(data["guild_id"])]
        chunk = {
            "guild_id": str(guild.id),
            "members": [payloads.member(self.world, m) for m in guild.members.values()],
            "chunk_index": 0,
            "chunk_count": 1,
            "not_found": [],
            "nonce": data.get("nonce"),
        }
        async with session.lock:
            await self._emit(session, "GUILD_MEMBERS_CHUNK", chunk)

    async def _emit(self, session: Session, event: str, data: JSON) -> None:
        """Number, keep and (if connected) send one dispatch; call with `session.lock` held."""
        session.seq += 1
        packet = {"op": DISPATCH, "t": event, "s": session.seq, "d": data}
        session.sent.append(packet)
        if session.ws is not None and not session.ws.closed:
            try:
                await send(session.ws, packet)
            except ConnectionResetError:
                session.ws = None

    def _filter(self, session: Session, event: str, data: JSON) -> JSON | None:
        """Apply the intents Discord enforces: no guild messages without GUILD_MESSAGES, no
        content without MESSAGE_CONTENT unless the bot wrote the message or is mentioned, and
        no reactions without GUILD_MESSAGE_REACTIONS."""
        if event in REACTION_EVENTS:
            return data if session.intents & GUILD_MESSAGE_REACTIONS_INTENT else None
        if event not in MESSAGE_EVENTS:
            return data
        if not session.intents & GUILD_MESSAGES_INTENT:
            return None
        bot_id = str(self.bot.id)
        mentioned = f"<@{bot_id}>" in data["content"] or f"<@!{bot_id}>" in data["content"]
        if session.intents & MESSAGE_CONTENT_INTENT or data["author"]["id"] == bot_id or mentioned:
            return data
        return data | {"content": "", "embeds": [], "attachments": [], "components": []}


async def send(ws: web.WebSocketResponse, packet: JSON) -> None:
    await ws.send_str(json.dumps({"s": None, "t": None} | packet))
