"""StoryBot: the Discord client around one story engine.

`setup_hook` loads the cogs (a cog that fails is logged and the rest still load), registers the
persistent buttons, tells people whose model request the last crash interrupted
(bot/discord/inflight.py), starts the round-robin clock and syncs the commands, to the
development guild when one is configured (instant) or globally.
"""

from __future__ import annotations

import logging

import discord
from discord.ext import commands

from bot.discord.board import RecordedBoard
from bot.discord.buttons import PageButton, TurnButton
from bot.discord.cooldowns import Cooldowns, start_limits
from bot.discord.deadline_loop import DeadlineWatcher
from bot.discord.inflight import Inflight
from bot.discord.reactions import on_reaction
from bot.discord.story_client import StoryClient
from bot.discord.tree import StoryTree
from bot.settings import BotSection
from bot.story import StoryEngine

log = logging.getLogger("talewright.discord")

COGS = (
    "bot.discord.cogs.story",
    "bot.discord.cogs.characters",
    "bot.discord.cogs.lore",
    "bot.discord.cogs.style",
    "bot.discord.cogs.moderation",
    "bot.discord.cogs.admin",
    "bot.discord.cogs.plain",
)


def intents_for(settings: BotSection) -> discord.Intents:
    """Only what the bot uses: guilds (channels, threads, roles) and guild reactions (👍/👎 on
    turns; not privileged). Reading plain messages as turns needs the privileged message
    content intent, so it is asked for only then."""
    intents = discord.Intents.none()
    intents.guilds = True
    intents.guild_reactions = True
    if settings.plain_message_mode:
        intents.guild_messages = True
        intents.message_content = True
    return intents


def owns_guild(settings: BotSection, guild_id: int | None) -> bool:
    """Whether this process runs the shard Discord routes the guild to (outside a guild:
    shard 0's)."""
    if settings.shard_ids is None or settings.shard_count is None:
        return True
    shard = 0 if guild_id is None else (guild_id >> 22) % settings.shard_count
    return shard in settings.shard_ids


def syncs_commands(settings: BotSection) -> bool:
    """Commands belong to the application, not to a shard: of several processes, the one that
    runs shard 0 registers them and the others leave Discord's rate limit alone."""
    return settings.shard_ids is None or 0 in settings.shard_ids


class StoryBot(StoryClient):
    def __init__(self, engine: StoryEngine, settings: BotSection) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            help_command=None,
            intents=intents_for(settings),
            tree_cls=StoryTree,
            allowed_mentions=discord.AllowedMentions.none(),
            shard_count=settings.shard_count,
            # discord.py's stub says List[int], its constructor takes None for "all shards".
            shard_ids=settings.shard_ids,  # pyright: ignore[reportArgumentType]
        )
        self.engine = engine
        self.settings = settings
        self.cooldowns = Cooldowns(
            settings.generation_cooldown_s,
            settings.channel_generation_cooldown_s,
            settings.guild_generations_per_minute,
            shared=engine.storage.cooldowns,
        )
        self.start_limits = start_limits(
            settings.start_cooldown_s,
            settings.guild_starts_per_hour,
            shared=engine.storage.cooldowns,
        )
        self.board = RecordedBoard(engine)
        self.deadlines = DeadlineWatcher(self, settings.deadline_poll_s)
        self.inflight = Inflight(
            self, engine.storage.inflight, owns=lambda guild_id: owns_guild(settings, guild_id)
        )

    async def setup_hook(self) -> None:
        for name in COGS:
            try:
                await self.load_extension(name)
            except commands.ExtensionError:
                log.exception("could not load %s; its commands are unavailable", name)
        self.add_dynamic_items(TurnButton, PageButton)
        await self._settle_interrupted()
        self.deadlines.start()
        if syncs_commands(self.settings):
            await self.sync_commands()

    async def on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        await on_reaction(self, payload, added=True)

    async def on_raw_reaction_remove(self, payload: discord.RawReactionActionEvent) -> None:
        await on_reaction(self, payload, added=False)

    async def _settle_interrupted(self) -> None:
        """Answer the requests a crash left "thinking" before taking new ones."""
        try:
            await self.inflight.settle()
        except Exception:
            log.exception("could not settle the requests interrupted by the last stop")

    async def sync_commands(self) -> list[discord.app_commands.AppCommand]:
        """To the development guild when configured (updates at once), else globally."""
        guild_id = self.settings.dev_guild_id
        if guild_id is None:
            synced = await self.tree.sync()
        else:
            guild = discord.Object(id=guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
        where = f"guild {guild_id}" if guild_id else "all guilds"
        log.info("synced %d commands to %s", len(synced), where)
        return synced

    async def close(self) -> None:
        self.deadlines.stop()
        await super().close()
