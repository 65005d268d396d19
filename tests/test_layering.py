"""The import rules of docs/architecture.md, checked on the source and in fresh interpreters.

- `bot/story` (the engine) never imports a front end (`bot.discord`, `bot.console`, `bot.cli`),
  discord or torch; `bot/console` never imports discord or `bot.discord`; `bot/discord` never
  imports `bot.console`; neither front end imports `bot.cli`.
- `storage` and `generators` never import `bot`; `generators` never imports `storage`.
- The modules of `bot` import each other without a cycle, type-only and function-level imports
  included.
- Importing any module of `bot` or `storage` does not import torch (the in-process generator
  loads it lazily).
- Importing any module of `generators.service` (its app, settings and command line) imports no
  module of `bot`: the service runs and ships without the bot.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def imported_modules(path: Path, package: str | None = None) -> set[str]:
    """Every module `path` imports, wherever the import sits (under `if TYPE_CHECKING:`, in a
    function); `from a import b` names both `a` and `a.b`, since `b` may be a module.
    `package` resolves relative imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                if package is None:
                    continue
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            if base:
                names.add(base)
                names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def python_files(package: str, root: Path = ROOT) -> list[Path]:
    return sorted((root / package).rglob("*.py"))


def under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


FRONT_ENDS = {"bot.discord", "bot.console", "bot.cli"}


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("bot/story", {"discord", "torch", *FRONT_ENDS}),
        ("bot/console", {"discord", "bot.discord", "bot.cli"}),
        ("bot/discord", {"bot.console", "bot.cli"}),
        ("storage", {"discord", "bot", "torch", "generators"}),
        ("generators", {"discord", "bot", "storage"}),
    ],
)
def test_packages_do_not_import_forbidden_modules(package, forbidden):
    offenders = {}
    for path in python_files(package):
        bad = {p for p in forbidden for name in imported_modules(path) if under(name, p)}
        if bad:
            offenders[str(path.relative_to(ROOT))] = sorted(bad)
    assert offenders == {}


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def import_graph(package: str, root: Path = ROOT) -> dict[str, set[str]]:
    """Module -> the modules of `package` it imports. A package's `__init__` counts only where
    it is imported by name (importing `a.b` also runs `a/__init__.py`, but no rule can be
    broken through an `__init__` that imports nothing)."""
    files = {module_name(path, root): path for path in python_files(package, root)}
    graph = {}
    for name, path in files.items():
        own_package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        imported = imported_modules(path, own_package)
        graph[name] = {other for other in imported if other in files and other != name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle (its modules in order, the first repeated at the end), or None."""
    done: set[str] = set()
    path: list[str] = []
    on_path: set[str] = set()

    def visit(module: str) -> list[str] | None:
        path.append(module)
        on_path.add(module)
        for other in sorted(graph[module]):
            if other in on_path:
                return [*path[path.index(other) :], other]
            if other not in done:
                cycle = visit(other)
                if cycle is not None:
                    return cycle
        path.pop()
        on_path.discard(module)
        done.add(module)
        return None

    for module in sorted(graph):
        if module not in done:
            cycle = visit(module)
            if cycle is not None:
                return cycle
    return None


def test_bot_has_no_import_cycle():
    assert find_cycle(import_graph("bot")) is None


def test_a_type_only_import_closes_a_cycle(tmp_path):
    """The check itself: an import under `if TYPE_CHECKING:` (or in a function) still counts,
    as a circle of modules held together that way is still a circle to read and change."""
    package = tmp_path / "app"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "client.py").write_text("from app.buttons import Button\n")
    (package / "buttons.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from app.client import Client\n"
    )
    (package / "leaf.py").write_text("def f():\n    from . import buttons\n")
    graph = import_graph("app", tmp_path)
    assert graph["app.leaf"] == {"app", "app.buttons"}
    assert find_cycle(graph) == ["app.buttons", "app.client", "app.buttons"]
    (package / "buttons.py").write_text("")
    assert find_cycle(import_graph("app", tmp_path)) is None


def module_names(package: str) -> list[str]:
    return [module_name(path) for path in python_files(package)]


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


def test_the_service_imports_no_bot_module():
    modules = [m for m in module_names("generators/service") if not m.endswith("__main__")]
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print(sorted(m for m in sys.modules if m == 'bot' or m.startswith('bot.')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]", "generators.service imported " + result.stdout


def test_moderation_needs_no_torch():
    code = "import sys, generators.moderation\nprint('torch' in sys.modules)\n"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
