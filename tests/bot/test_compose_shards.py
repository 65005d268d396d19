"""compose.yaml's bot processes are valid settings whose shards cover the whole bot once, on
one shared PostgreSQL database."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.settings import load_settings

COMPOSE = Path(__file__).resolve().parents[2] / "compose.yaml"


def test_the_bot_processes_split_the_shards_over_one_database(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TALEWRIGHT_CONFIG", raising=False)
    services = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))["services"]
    bots = {name: s for name, s in services.items() if s.get("build", {}).get("target") == "bot"}
    assert len(bots) >= 2
    owned: list[int] = []
    urls, counts = set(), set()
    for service in bots.values():
        with monkeypatch.context() as env:
            for key, value in service["environment"].items():
                env.setenv(key, "token" if "${" in str(value) else str(value))
            settings = load_settings()
        assert settings.bot.shard_ids is not None and settings.bot.shard_count is not None
        owned += settings.bot.shard_ids
        counts.add(settings.bot.shard_count)
        urls.add(settings.storage.url)
    (count,) = counts
    assert sorted(owned) == list(range(count))
    (url,) = urls
    assert url is not None and url.startswith("postgresql://")
    assert "postgres" in services
