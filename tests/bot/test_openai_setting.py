"""`[generator] mode = "openai"` gives the bot the OpenAI-compatible backend, configured from
the settings, and refuses to start without the server's model name."""

from __future__ import annotations

import pytest

from bot.discord.run import load_generator
from bot.settings import SettingsError, load_settings
from generators.moderation import Moderator
from generators.openai_backend import OpenAIGenerator


async def test_openai_mode_builds_the_openai_backend(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TALEWRIGHT_GENERATOR__API_KEY", "from-the-environment")
    settings = load_settings(
        generator={
            "mode": "openai",
            "base_url": "http://gpu-box:8000/v1",
            "model": "mistral-7b",
            "extra_body": {"min_p": 0.05},
        }
    )
    generator = await load_generator(settings, Moderator(use_classifier=False))
    assert isinstance(generator, OpenAIGenerator) and generator.model == "mistral-7b"
    assert generator.extra_body == {"min_p": 0.05}
    assert str(generator._client.base_url) == "http://gpu-box:8000/v1/"
    assert generator._client.headers["Authorization"] == "Bearer from-the-environment"
    await generator.aclose()


async def test_openai_mode_needs_a_model_name(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    settings = load_settings(generator={"mode": "openai"})
    with pytest.raises(SettingsError, match="model"):
        await load_generator(settings, Moderator(use_classifier=False))
