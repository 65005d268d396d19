"""`python -m generators.service`: the service's own settings and entry point, with no `bot`.

The service reads the `[service]` and `[moderation]` tables of the config file the bot reads
(the bot's tables ignored), with the same TALEWRIGHT_SERVICE__* variables, and starts with every
import of `bot` refused.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from test_service_cli import serve_and_ask

from bot.settings import Settings, load_settings
from generators.config_file import SettingsError
from generators.service.cli import build_parser, main, with_options
from generators.service.settings import ModerationSection, ServiceSection, load_service_settings

ROOT = Path(__file__).resolve().parents[2]

SHARED_CONFIG = """\
log_level = "DEBUG"

[bot]
max_turn_chars = 1500

[storage]
path = "/data/talewright.db"

[service]
port = 9000
max_batch = 8
device = "cpu"

[moderation]
use_classifier = false
"""

BLOCK_BOT = """\
import runpy, sys

class NoBot:
    def find_spec(self, name, path=None, target=None):
        if name == "bot" or name.startswith("bot."):
            raise ImportError(f"the service imported {name}")
        return None

sys.meta_path.insert(0, NoBot())
sys.argv = ["generators.service", *sys.argv[1:]]
runpy.run_module("generators.service", run_name="__main__", alter_sys=True)
"""


def test_the_service_reads_its_tables_of_the_shared_config(tmp_path, monkeypatch):
    config = tmp_path / "config.toml"
    config.write_text(SHARED_CONFIG, encoding="utf-8")
    monkeypatch.setenv("TALEWRIGHT_SERVICE__MAX_QUEUE", "5")
    monkeypatch.setenv("TALEWRIGHT_BOT__TOKEN", "not the service's")
    settings = load_service_settings(config)
    section = settings.service
    assert (section.port, section.max_batch, section.max_queue, section.device) == (
        9000,
        8,
        5,
        "cpu",
    )
    assert settings.moderation.use_classifier is False
    bot_settings = load_settings(config)
    assert bot_settings.service == section and bot_settings.moderation == settings.moderation


def test_the_bot_uses_the_services_section_classes():
    assert Settings.model_fields["service"].annotation is ServiceSection
    assert Settings.model_fields["moderation"].annotation is ModerationSection


def test_a_bad_service_setting_names_its_key(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "config.toml"
    config.write_text("[service]\nport = 70000\nmax_bach = 8\n", encoding="utf-8")
    with pytest.raises(SettingsError) as error:
        load_service_settings(config)
    assert "service.port = 70000" in str(error.value)
    assert "service.max_bach: unknown setting" in str(error.value)
    assert main(["--config", str(config)]) == 2
    with pytest.raises(SettingsError, match="config file not found"):
        load_service_settings(tmp_path / "missing.toml")


def test_options_override_the_settings():
    args = build_parser().parse_args(
        ["--host", "0.0.0.0", "--checkpoint", "a", "--checkpoint", "b", "--no-batching"]
    )
    section = with_options(ServiceSection(port=9000), args)
    assert (section.host, section.port, section.batching) == ("0.0.0.0", 9000, False)
    assert section.checkpoints == [Path("a"), Path("b")]
    with pytest.raises(SettingsError, match="invalid serve option"):
        with_options(ServiceSection(), build_parser().parse_args(["--port", "-1"]))


def test_help_runs_without_the_bot():
    result = subprocess.run(
        [sys.executable, "-c", BLOCK_BOT, "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "--checkpoint" in result.stdout and "TALEWRIGHT_SERVICE__" in result.stdout


def test_the_service_starts_and_answers_without_the_bot(tiny_checkpoint, tmp_path):
    log = serve_and_ask([sys.executable, "-c", BLOCK_BOT], tiny_checkpoint, tmp_path)
    assert "imported bot" not in log.read_text()
