"""Fixtures of the end-to-end tests: the fake Discord (helpers live in bot_harness.py)."""

import fakediscord.fixtures

fake_discord = fakediscord.fixtures.fake_discord
