"""A local fake of Discord's REST API and gateway for end-to-end tests of a discord.py bot.

Start it with `async with FakeDiscord() as fake`, run the bot with `running_bot(bot, fake)`
(or point a bot process at `fake.api_base_url`), then drive it with `fake.slash`,
`fake.click`, `fake.submit_modal`, `fake.autocomplete`, `fake.context_menu` and
`fake.send_message`, and read what it did from the returned `Interaction` records,
`fake.messages`, `fake.rest_calls`, `fake.unknown_routes()` and `fake.unsafe_mentions()`.
"""

from .builders import Upload
from .discordpy import configure_discord_py, reset_discord_py, running_bot
from .interactions import Callback, Interaction
from .mentions import MentionLeak
from .messages import Button
from .server import FakeDiscord
from .state import Channel, Command, Message, Overwrite, RestCall, Role, StoredFile, User

__all__ = [
    "Button",
    "Callback",
    "Channel",
    "Command",
    "FakeDiscord",
    "Interaction",
    "MentionLeak",
    "Message",
    "Overwrite",
    "RestCall",
    "Role",
    "StoredFile",
    "Upload",
    "User",
    "configure_discord_py",
    "reset_discord_py",
    "running_bot",
]
