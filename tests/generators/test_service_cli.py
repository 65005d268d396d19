"""`talewright serve`: options over the config file, clear failures, and a real run."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from test_service_support import ACCEPTANCE_BODY

from bot.cli.commands_serve import service_settings
from bot.cli.main import build_parser, main

ROOT = Path(__file__).resolve().parents[2]


def test_options_override_the_config_file(tmp_path, monkeypatch):
    config = tmp_path / "config.toml"
    config.write_text('[service]\nport = 9000\nmax_batch = 8\ndevice = "cpu"\n', encoding="utf-8")
    monkeypatch.setenv("TALEWRIGHT_SERVICE__MAX_QUEUE", "5")
    args = build_parser().parse_args(
        [
            "serve",
            "--config",
            str(config),
            "--host",
            "0.0.0.0",
            "--checkpoint",
            "a",
            "--checkpoint",
            "b",
        ]
    )
    _, section = service_settings(args)
    assert (section.host, section.port, section.max_batch, section.max_queue) == (
        "0.0.0.0",
        9000,
        8,
        5,
    )
    assert section.checkpoints == [Path("a"), Path("b")] and section.batching is True
    args = build_parser().parse_args(
        ["serve", "--config", str(config), "--port", "0", "--no-batching"]
    )
    _, section = service_settings(args)
    assert section.port == 0 and section.batching is False


def test_a_missing_checkpoint_fails_clearly(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["serve", "--checkpoint", str(tmp_path / "nope")]) == 2
    assert "checkpoint folder not found" in capsys.readouterr().err


def test_serve_runs_the_service(tiny_checkpoint, tmp_path):
    serve_and_ask([sys.executable, "-m", "bot.cli", "serve"], tiny_checkpoint, tmp_path)


def serve_and_ask(start: list[str], checkpoint: Path, tmp_path: Path) -> Path:
    """Start the service with `start` (a command line without its options) on a free port,
    ask it for the acceptance request once it is ready, stop it, and return its log."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "TALEWRIGHT_SERVICE__THREADS": "1",
        "TALEWRIGHT_MODERATION__USE_CLASSIFIER": "false",
    }
    command = [*start, "--port", str(port), "--checkpoint", str(checkpoint), "--device", "cpu"]
    log = tmp_path / "service.log"
    with log.open("w") as output:
        process = subprocess.Popen(command, cwd=tmp_path, env=env, stderr=output)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(process, url, log)
        response = httpx.post(f"{url}/v1/generate", json=ACCEPTANCE_BODY, timeout=60)
        assert response.status_code == 200 and len(response.json()["candidates"]) == 2
    finally:
        process.terminate()  # uvicorn shuts down gracefully, then re-raises SIGTERM
        assert process.wait(60) in (0, -signal.SIGTERM)
    return log


def wait_ready(process: subprocess.Popen, url: str, log: Path, timeout_s: float = 600) -> None:
    """Until /readyz answers 200 (importing torch alone can take a minute on a busy machine)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if httpx.get(f"{url}/readyz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"the service did not start:\n{log.read_text()}")
        time.sleep(0.2)
