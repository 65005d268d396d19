"""Reading terminal command lines the way Discord's slash commands read: a command path
(`/story start`), then `key:value` or `key:"quoted value"` options and plain words.

Text that is a turn or a name keeps its exact spelling: commands that take free text read the
raw rest of the line rather than the split words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_TOKEN = re.compile(
    r"""
    (?P<key>[A-Za-z_]+):(?:"(?P<qvalue>(?:[^"\\]|\\.)*)"|(?P<value>\S*))  # key:value
    | "(?P<qword>(?:[^"\\]|\\.)*)"                                      # "quoted words"
    | (?P<word>\S+)                                                     # word
    """,
    re.VERBOSE,
)
_ESCAPE = re.compile(r"\\(.)")


@dataclass(frozen=True)
class Command:
    """One parsed line: `path` is ("story", "start") or ("as",); `rest` is the raw text after
    the path, for commands whose argument is free text."""

    path: tuple[str, ...]
    words: tuple[str, ...] = ()
    options: dict[str, str] = field(default_factory=dict)
    rest: str = ""
    unclosed_quote: bool = False
    """An odd number of quotes: options may be misread (free text does not care)."""


def parse(line: str, groups: frozenset[str]) -> Command:
    """Parse a line that starts with `/`; `groups` are the names that take a subcommand."""
    stripped = line.strip()
    tokens = list(_TOKEN.finditer(stripped))
    head = tokens[0].group(0)[1:].casefold()
    path = [head]
    end = tokens[0].end()
    rest_tokens = tokens[1:]
    if head in groups and rest_tokens and rest_tokens[0].group("word"):
        path.append(rest_tokens[0].group("word").casefold())
        end = rest_tokens[0].end()
        rest_tokens = rest_tokens[1:]
    words: list[str] = []
    options: dict[str, str] = {}
    for token in rest_tokens:
        if token.group("key") is not None:
            value = token.group("qvalue")
            raw = value if value is not None else token.group("value")
            options[token.group("key").casefold()] = _unescape(raw)
        elif token.group("qword") is not None:
            words.append(_unescape(token.group("qword")))
        else:
            words.append(token.group("word"))
    unclosed = len(re.findall(r'(?<!\\)"', stripped)) % 2 == 1
    return Command(tuple(path), tuple(words), options, stripped[end:].strip(), unclosed)


def _unescape(text: str) -> str:
    return _ESCAPE.sub(r"\1", text)
