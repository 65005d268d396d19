"""Fixtures of the end-to-end tests: the fake Discord (helpers live in bot_harness.py), and the
fault suite's figures in the run's summary."""

from typing import Any

import fakediscord.fixtures
from fault_figures import FIGURES

fake_discord = fakediscord.fixtures.fake_discord


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if FIGURES:
        terminalreporter.section("fault suite figures")
        for line in FIGURES:
            terminalreporter.write_line(line)
