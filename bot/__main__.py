"""`python -m bot`: run the Discord bot (bot/discord/run.py)."""

import sys

from bot.discord.run import main

sys.exit(main())
