"""The fake Discord against a real discord.py AutoShardedBot running in this process."""

from __future__ import annotations

import asyncio
import io
import os
import sys
from collections.abc import AsyncIterator

import aiohttp
import discord
import fakediscord.fixtures
import pytest
from discord import app_commands
from discord.ext import commands
from fakediscord import FakeDiscord, Upload, running_bot

fake_discord = fakediscord.fixtures.fake_discord
GENRES = ("fantasy", "farce", "horror", "mystery")
# A bot process configured only through its environment, as the real bot's settings will be.
PROCESS_BOT = """
import os
import discord
from discord.ext import commands

discord.http.Route.BASE = os.environ["BOT_API_BASE_URL"]
bot = commands.AutoShardedBot(command_prefix="!", intents=discord.Intents.default())


@bot.tree.command(description="Greet from another process")
async def hello(interaction: discord.Interaction) -> None:
    await interaction.response.send_message(f"hello {interaction.user.name}")


async def sync() -> None:
    await bot.tree.sync()


bot.setup_hook = sync
bot.run(os.environ["BOT_TOKEN"], log_handler=None)
"""


class VoteView(discord.ui.View):
    @discord.ui.button(label="Keep", custom_id="vote:keep")
    async def keep(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await interaction.response.edit_message(
            content=f"Kept by {interaction.user.name}", view=None
        )

    @discord.ui.button(label="Twist", custom_id="vote:twist", style=discord.ButtonStyle.danger)
    async def twist(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await interaction.response.send_message("Twist!")


class PitchModal(discord.ui.Modal, title="Pitch a story"):
    premise: discord.ui.TextInput = discord.ui.TextInput(
        label="Premise", custom_id="premise", max_length=200
    )

    def __init__(self) -> None:
        super().__init__(custom_id="pitch")

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"Pitched: {self.premise.value}")


class Story(app_commands.Group):
    def __init__(self) -> None:
        super().__init__(name="story", description="Collaborative stories")

    @app_commands.command(description="Start a story in its own thread")
    async def start(self, interaction: discord.Interaction, title: str) -> None:
        await interaction.response.defer(thinking=True)
        assert isinstance(interaction.channel, discord.TextChannel)
        thread = await interaction.channel.create_thread(
            name=title, type=discord.ChannelType.public_thread
        )
        await thread.send(f"Once upon a time: {title}")
        await interaction.followup.send(f"Started {title} in {thread.mention}")
        await interaction.edit_original_response(content=f"Story {title} is ready")

    @app_commands.command(description="Vote on the next turn")
    async def vote(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message("Keep or twist?", view=VoteView())

    @app_commands.command(description="Pick a genre")
    async def genre(self, interaction: discord.Interaction, genre: str) -> None:
        await interaction.response.send_message(f"Genre: {genre}", ephemeral=True)

    @genre.autocomplete("genre")
    async def genre_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=g, value=g) for g in GENRES if g.startswith(current)]

    @app_commands.command(description="Pitch a premise")
    async def pitch(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(PitchModal())

    @app_commands.command(description="Shout a draft back in capitals")
    async def shout(self, interaction: discord.Interaction, draft: discord.Attachment) -> None:
        text = await draft.read()
        upper = discord.File(io.BytesIO(text.upper()), filename=f"loud-{draft.filename}")
        await interaction.response.send_message("Louder:", file=upper)

    @app_commands.command(description="Cast a member in a role somewhere")
    async def cast(
        self,
        interaction: discord.Interaction,
        hero: discord.Member,
        part: discord.Role,
        where: discord.TextChannel,
    ) -> None:
        roles = ", ".join(r.name for r in hero.roles[1:])
        await interaction.response.send_message(
            f"{hero.name} ({roles}) plays {part.name} in {where}"
        )

    @app_commands.command(description="Tidy the channel's latest turn")
    async def tidy(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        channel = interaction.channel
        assert isinstance(channel, discord.TextChannel) and interaction.guild is not None
        async with channel.typing():
            history = [m async for m in channel.history(limit=10)]
        latest = await channel.fetch_message(history[0].id)
        await latest.add_reaction("📖")
        await latest.edit(content=f"{latest.content} (tidied)")
        thread = await latest.create_thread(name="Recap")
        await thread.join()
        note = await channel.send("tidying")
        await note.delete()
        member = await interaction.guild.fetch_member(interaction.user.id)
        await interaction.followup.send(
            f"Tidied {len(history)} for {member.name} in {thread.mention}", ephemeral=True
        )

    @app_commands.command(description="Announce news to the channel")
    async def announce(self, interaction: discord.Interaction, news: str, loud: bool) -> None:
        allowed = discord.AllowedMentions.all() if loud else discord.AllowedMentions.none()
        assert isinstance(interaction.channel, discord.TextChannel)
        await interaction.channel.send(f"@everyone {news}", allowed_mentions=allowed)
        await interaction.response.send_message("Announced", ephemeral=True)


async def report_turn(interaction: discord.Interaction, message: discord.Message) -> None:
    await interaction.response.send_message(
        f"Reported {message.id}: {message.content}", ephemeral=True
    )


class StoryBot(commands.AutoShardedBot):
    def __init__(self, guild_id: int) -> None:
        super().__init__(command_prefix="!", intents=discord.Intents.default())
        self.guild_id = guild_id
        self.seen: list[discord.Message] = []

    async def setup_hook(self) -> None:
        guild = discord.Object(id=self.guild_id)
        self.tree.add_command(Story(), guild=guild)
        self.tree.add_command(
            app_commands.ContextMenu(name="Report turn", callback=report_turn), guild=guild
        )
        await self.tree.sync(guild=guild)

    async def on_message(self, message: discord.Message) -> None:
        self.seen.append(message)


@pytest.fixture
async def bot(fake_discord: FakeDiscord) -> AsyncIterator[StoryBot]:
    async with running_bot(StoryBot(fake_discord.guild.id), fake_discord) as running:
        yield running


async def test_bot_logs_in_syncs_and_receives_its_guild(
    fake_discord: FakeDiscord, bot: StoryBot
) -> None:
    synced = {(c.name, c.type) for c in fake_discord.synced_commands()}
    assert synced == {("story", 1), ("Report turn", 3)}
    [story] = [c for c in fake_discord.synced_commands() if c.name == "story"]
    subcommands = {o["name"] for o in story.payload["options"]}
    assert subcommands == {"start", "vote", "genre", "pitch", "shout", "cast", "tidy", "announce"}
    guild = bot.get_guild(fake_discord.guild.id)
    assert guild is not None
    assert guild.default_role.id == guild.id
    assert {c.name for c in guild.text_channels} == {"general", "stories"}
    assert guild.me is not None and guild.me.id == fake_discord.bot_user.id
    assert fake_discord.identify_count == 1
    assert fake_discord.unknown_routes() == []
    assert fake_discord.errors() == []


async def test_deferred_slash_follows_up_edits_and_opens_a_thread(
    fake_discord: FakeDiscord, bot: StoryBot
) -> None:
    ix = await fake_discord.slash("alice", "stories", "story", "start", options={"title": "Tide"})
    first = await ix.wait_response()
    assert first.type == 5
    assert ix.ack_latency is not None and 0 <= ix.ack_latency < 1.0
    [followup] = await ix.wait_followups(1)
    [thread] = fake_discord.threads("stories")
    assert thread.name == "Tide" and thread.type == 11
    assert followup.content == f"Started Tide in {thread.mention}"
    await ix.wait_content("Story Tide is ready")
    assert ix.original is not None and not ix.original.loading
    assert ix.content == f"Story Tide is ready\nStarted Tide in {thread.mention}"
    assert [m.content for m in fake_discord.messages(thread)] == ["Once upon a time: Tide"]
    assert isinstance(bot.get_channel(thread.id), discord.Thread)


async def test_button_click_updates_the_message(fake_discord: FakeDiscord, bot: StoryBot) -> None:
    ix = await fake_discord.slash("alice", "general", "story", "vote")
    await ix.wait_response()
    assert [(b.custom_id, b.label) for b in ix.buttons] == [
        ("vote:keep", "Keep"),
        ("vote:twist", "Twist"),
    ]
    assert ix.original is not None
    click = await fake_discord.click("bob", ix.original, "vote:keep")
    assert (await click.wait_response()).type == 7
    assert ix.original.content == "Kept by bob"
    assert ix.original.components == []


async def test_modal_opens_and_its_submission_is_answered(
    fake_discord: FakeDiscord, bot: StoryBot
) -> None:
    ix = await fake_discord.slash("carol", "general", "story", "pitch")
    assert (await ix.wait_response()).type == 9
    assert ix.modal is not None and ix.modal["title"] == "Pitch a story"
    with pytest.raises(ValueError, match="empty"):
        await fake_discord.submit_modal("carol", "general", "pitch", {})
    submitted = await fake_discord.submit_modal("carol", "general", "pitch", {"premise": "A map"})
    await submitted.wait_response()
    assert submitted.content == "Pitched: A map"


async def test_autocomplete_returns_the_bots_choices(
    fake_discord: FakeDiscord, bot: StoryBot
) -> None:
    choices = await fake_discord.autocomplete(
        "alice", "general", "story", "genre", focused="genre", options={"genre": "f"}
    )
    assert [c["value"] for c in choices] == ["fantasy", "farce"]
    ix = await fake_discord.slash("alice", "general", "story", "genre", options={"genre": "farce"})
    await ix.wait_response()
    assert ix.ephemeral and ix.content == "Genre: farce"
    assert fake_discord.messages("general") == []


async def test_attachment_option_is_served_and_uploaded_file_recorded(
    fake_discord: FakeDiscord, bot: StoryBot
) -> None:
    draft = Upload("draft.txt", b"once upon a time")
    ix = await fake_discord.slash("bob", "general", "story", "shout", options={"draft": draft})
    await ix.wait_response()
    [upper] = ix.files
    assert (upper.filename, upper.data) == ("loud-draft.txt", b"ONCE UPON A TIME")
    [callback] = [c for c in fake_discord.rest_calls if c.path.endswith("/callback")]
    assert callback.files == ["loud-draft.txt"]
    assert callback.json["data"]["content"] == "Louder:"


async def test_channel_operations_parse_in_discord_py(
    fake_discord: FakeDiscord, bot: StoryBot
) -> None:
    vote = await fake_discord.slash("alice", "general", "story", "vote")
    await vote.wait_response()
    ix = await fake_discord.slash("alice", "general", "story", "tidy")
    [followup] = await ix.wait_followups(1)
    [thread] = fake_discord.threads("general")
    assert followup.ephemeral and followup.content == f"Tidied 1 for alice in {thread.mention}"
    assert vote.original is not None and thread.id == vote.original.id
    assert vote.original.content == "Keep or twist? (tidied)"
    assert vote.original.reactions == ["📖"]
    assert bot.user is not None and bot.user.id in thread.member_ids
    assert [m.content for m in fake_discord.messages("general")] == ["Keep or twist? (tidied)"]
    assert fake_discord.unknown_routes() == [] and fake_discord.errors() == []


async def test_world_built_before_connecting_resolves_in_options(
    fake_discord: FakeDiscord,
) -> None:
    dave = fake_discord.add_user("dave", roles=("Moderator",))
    bard = fake_discord.add_role("Bard", members=("dave",))
    quests = fake_discord.add_channel("quests")
    async with running_bot(StoryBot(fake_discord.guild.id), fake_discord) as bot:
        guild = bot.get_guild(fake_discord.guild.id)
        assert guild is not None and guild.get_channel(quests.id) is not None
        options = {"hero": dave, "part": bard, "where": "quests"}
        ix = await fake_discord.slash("alice", "general", "story", "cast", options=options)
        await ix.wait_response()
    assert ix.content == "dave (Moderator, Bard) plays Bard in quests"


async def test_message_context_menu_sees_the_target_message(
    fake_discord: FakeDiscord, bot: StoryBot
) -> None:
    posted = await fake_discord.send_message("bob", "general", "The dragon wins")
    ix = await fake_discord.context_menu("carol", posted, "Report turn")
    await ix.wait_response()
    assert ix.ephemeral
    assert ix.content == f"Reported {posted.id}: The dragon wins"
    # Without the message content intent, Discord blanks other users' messages.
    assert [m.content for m in bot.seen if m.id == posted.id] == [""]


async def test_dropped_gateway_resumes_and_replays_missed_events(
    fake_discord: FakeDiscord, bot: StoryBot
) -> None:
    await fake_discord.drop_connection()
    ix = await fake_discord.slash("alice", "general", "story", "vote")
    await fake_discord.wait_until_ready()
    await ix.wait_response()
    assert (fake_discord.identify_count, fake_discord.resume_count) == (1, 1)
    after = await fake_discord.slash("alice", "general", "story", "vote")
    assert (await after.wait_response()).type == 4


async def test_unsafe_mentions_flag_only_unsuppressed_pings(
    fake_discord: FakeDiscord, bot: StoryBot
) -> None:
    for loud in (True, False):
        options = {"news": "chapter two", "loud": loud}
        ix = await fake_discord.slash("alice", "general", "story", "announce", options=options)
        await ix.wait_response()
    loud_message, quiet_message = fake_discord.messages("general")
    [leak] = fake_discord.unsafe_mentions()
    assert leak.message_id == loud_message.id
    assert leak.pings == ("@everyone",)
    assert quiet_message.allowed_mentions == {"parse": []}


async def test_late_acknowledgement_is_refused_like_discord() -> None:
    async with FakeDiscord(ack_deadline=0.0) as fake, running_bot(StoryBot(fake.guild.id), fake):
        ix = await fake.slash("alice", "general", "story", "vote")
        await fake.wait_until(fake.errors, what="the refused callback")
    [refused] = fake.errors()
    assert refused.path.endswith("/callback") and refused.status == 404
    assert refused.error["code"] == 10062
    assert ix.response is None


async def test_unknown_routes_and_bad_requests_answer_discord_json(
    fake_discord: FakeDiscord,
) -> None:
    headers = {"Authorization": f"Bot {fake_discord.token}"}
    async with aiohttp.ClientSession(fake_discord.api_base_url + "/", headers=headers) as http:
        async with http.get("gateway/bot") as response:
            assert response.headers["Content-Type"] == "application/json"
            assert (await response.json())["url"] == fake_discord.gateway_url
        async with http.get("guilds/1/bans") as response:
            assert response.status == 404
            assert response.headers["Content-Type"] == "application/json"
            assert (await response.json())["message"] == "404: Not Found"
    [unknown] = fake_discord.unknown_routes()
    assert (unknown.method, unknown.path) == ("GET", "/api/v10/guilds/1/bans")


async def test_invalid_command_sync_stops_the_bot_with_discords_error(
    fake_discord: FakeDiscord,
) -> None:
    class OverlongBot(StoryBot):
        async def setup_hook(self) -> None:
            async def tell(interaction: discord.Interaction) -> None:
                await interaction.response.send_message("told")

            command = app_commands.Command(name="tell", description="x" * 101, callback=tell)
            self.tree.add_command(command, guild=discord.Object(id=self.guild_id))
            await self.tree.sync(guild=discord.Object(id=self.guild_id))

    with pytest.raises(
        app_commands.CommandSyncFailure, match="description: Must be between 1 and 100"
    ):
        async with running_bot(OverlongBot(fake_discord.guild.id), fake_discord):
            pass
    assert fake_discord.synced_commands() == []


async def test_bot_process_connects_through_its_environment(fake_discord: FakeDiscord) -> None:
    env = os.environ | {
        "BOT_API_BASE_URL": fake_discord.api_base_url,
        "BOT_TOKEN": fake_discord.token,
    }
    process = await asyncio.create_subprocess_exec(sys.executable, "-c", PROCESS_BOT, env=env)
    try:
        await fake_discord.wait_until_ready(timeout=15)
        ix = await fake_discord.slash("bob", "general", "hello")
        await ix.wait_response()
        assert ix.content == "hello bob"
        assert [c.guild_id for c in fake_discord.synced_commands(guild=False)] == [None]
    finally:
        process.terminate()
        await process.wait()


async def test_deleting_a_thread_removes_it_for_the_bot_too(
    fake_discord: FakeDiscord, bot: StoryBot
) -> None:
    general = bot.get_channel(fake_discord.channel("general").id)
    assert isinstance(general, discord.TextChannel)
    thread = await general.create_thread(name="Spare", type=discord.ChannelType.public_thread)
    await fake_discord.wait_until(lambda: bot.get_channel(thread.id), what="the new thread")
    await thread.delete()
    assert fake_discord.threads("general") == []
    await fake_discord.wait_until(lambda: bot.get_channel(thread.id) is None, what="THREAD_DELETE")


async def test_a_user_named_in_allowed_mentions_is_a_deliberate_ping(
    fake_discord: FakeDiscord, bot: StoryBot
) -> None:
    bob, carol = fake_discord.user("bob"), fake_discord.user("carol")
    general = bot.get_channel(fake_discord.channel("general").id)
    assert isinstance(general, discord.TextChannel)
    only_bob = discord.AllowedMentions(users=[discord.Object(id=bob.id)])
    await general.send(f"{bob.mention}, your turn (not {carol.mention})", allowed_mentions=only_bob)
    await general.send(f"{carol.mention} too", allowed_mentions=discord.AllowedMentions(users=True))
    [leak] = fake_discord.unsafe_mentions()
    assert leak.pings == (carol.mention,)
