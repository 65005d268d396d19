"""The `talewright` command line itself, apart from what each subcommand does."""

from __future__ import annotations

import subprocess
import sys

from bot.cli.main import build_parser


def test_help_starts_with_the_first_line_of_the_module_docstring() -> None:
    assert build_parser().description == (
        "`talewright`: one entry point for playing, serving, training, evaluating and benchmarking."
    )


def test_the_parser_builds_when_python_strips_docstrings() -> None:
    done = subprocess.run(
        [sys.executable, "-OO", "-c", "from bot.cli.main import build_parser; build_parser()"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
