"""The engine is one class built from topic mixins: two mixins that define the same name would
silently hide one another (a character's `_editable` was once shadowed by a turn's)."""

from __future__ import annotations

from collections import defaultdict

from bot.story.core import EngineCore
from bot.story.engine import StoryEngine


def test_no_two_mixins_define_the_same_name() -> None:
    owners: dict[str, list[str]] = defaultdict(list)
    for mixin in StoryEngine.__mro__[1:]:
        if mixin is object or mixin is EngineCore or not mixin.__module__.startswith("bot.story"):
            continue
        if issubclass(EngineCore, mixin):
            continue
        for name in vars(mixin):
            if not (name.startswith("__") and name.endswith("__")):
                owners[name].append(mixin.__name__)
    clashes = {name: mixins for name, mixins in owners.items() if len(mixins) > 1}
    assert not clashes, f"mixins define the same names: {clashes}"
