"""Figures the fault suite measures (kills, lost and duplicated turns, acknowledgement
latencies), printed at the end of the pytest run by tests/e2e/conftest.py."""

from __future__ import annotations

FIGURES: list[str] = []


def record(line: str) -> None:
    """Keep one line for the run's summary (and print it, for `-s` runs)."""
    FIGURES.append(line)
    print(line)
