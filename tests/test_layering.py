"""The import rules of docs/architecture.md, checked on the source and in fresh interpreters.

- `bot/story`, `storage` and `generators` never import discord.
- `storage` and `generators` never import `bot`; `generators` never imports `storage`.
- Importing any module of `bot` or `storage` does not import torch (the in-process generator
  loads it lazily).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def python_files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def roots(names: set[str]) -> set[str]:
    return {name.split(".")[0] for name in names}


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("bot/story", {"discord", "torch"}),
        ("storage", {"discord", "bot", "torch", "generators"}),
        ("generators", {"discord", "bot", "storage"}),
    ],
)
def test_packages_do_not_import_forbidden_roots(package, forbidden):
    offenders = {
        str(path.relative_to(ROOT)): sorted(roots(imported_modules(path)) & forbidden)
        for path in python_files(package)
        if roots(imported_modules(path)) & forbidden
    }
    assert offenders == {}


def module_names(package: str) -> list[str]:
    names = []
    for path in python_files(package):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names.append(".".join(parts))
    return names


@pytest.mark.parametrize("package", ["bot", "storage"])
def test_importing_bot_and_storage_does_not_load_torch(package):
    modules = [m for m in module_names(package) if not m.endswith("__main__")]
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "loaded = sorted(m for m in sys.modules if m == 'torch' or m.startswith('torch.'))\n"
        "print(len(loaded))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "0", "torch was imported by importing " + package


def test_moderation_needs_no_torch():
    code = "import sys, generators.moderation\nprint('torch' in sys.modules)\n"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
