"""Both backends' classes offer exactly what the backend-neutral Protocols promise."""

from __future__ import annotations

import inspect

import pytest

from storage import repositories
from storage.locks import InProcessStoryLocks
from storage.postgres import PostgresStorage
from storage.postgres.characters import PostgresCharacterRepository
from storage.postgres.cooldowns import PostgresCooldownRepository
from storage.postgres.edits import PostgresEditRepository
from storage.postgres.feedback import PostgresFeedbackRepository
from storage.postgres.forks import PostgresForkRepository
from storage.postgres.guilds import PostgresGuildRepository
from storage.postgres.inflight import PostgresInflightRepository
from storage.postgres.locks import PostgresStoryLocks
from storage.postgres.lore import PostgresLoreRepository
from storage.postgres.moderation import PostgresModerationRepository
from storage.postgres.privacy import PostgresPrivacyRepository
from storage.postgres.reactions import PostgresReactionRepository
from storage.postgres.stories import PostgresStoryRepository
from storage.postgres.styles import PostgresStyleRepository
from storage.postgres.turns import PostgresTurnRepository
from storage.repositories import Storage
from storage.sqlite import SqliteStorage
from storage.sqlite.characters import SqliteCharacterRepository
from storage.sqlite.cooldowns import SqliteCooldownRepository
from storage.sqlite.edits import SqliteEditRepository
from storage.sqlite.feedback import SqliteFeedbackRepository
from storage.sqlite.forks import SqliteForkRepository
from storage.sqlite.guilds import SqliteGuildRepository
from storage.sqlite.inflight import SqliteInflightRepository
from storage.sqlite.lore import SqliteLoreRepository
from storage.sqlite.moderation import SqliteModerationRepository
from storage.sqlite.privacy import SqlitePrivacyRepository
from storage.sqlite.reactions import SqliteReactionRepository
from storage.sqlite.stories import SqliteStoryRepository
from storage.sqlite.styles import SqliteStyleRepository
from storage.sqlite.turns import SqliteTurnRepository

SQLITE = [
    (repositories.GuildRepository, SqliteGuildRepository),
    (repositories.StoryRepository, SqliteStoryRepository),
    (repositories.TurnRepository, SqliteTurnRepository),
    (repositories.CharacterRepository, SqliteCharacterRepository),
    (repositories.StyleRepository, SqliteStyleRepository),
    (repositories.FeedbackRepository, SqliteFeedbackRepository),
    (repositories.ModerationRepository, SqliteModerationRepository),
    (repositories.PrivacyRepository, SqlitePrivacyRepository),
    (repositories.InflightRepository, SqliteInflightRepository),
    (repositories.LoreRepository, SqliteLoreRepository),
    (repositories.EditRepository, SqliteEditRepository),
    (repositories.ForkRepository, SqliteForkRepository),
    (repositories.ReactionRepository, SqliteReactionRepository),
    (repositories.StoryLockProvider, InProcessStoryLocks),
    (repositories.CooldownRepository, SqliteCooldownRepository),
    (repositories.Storage, SqliteStorage),
]
POSTGRES = [
    (repositories.GuildRepository, PostgresGuildRepository),
    (repositories.StoryRepository, PostgresStoryRepository),
    (repositories.TurnRepository, PostgresTurnRepository),
    (repositories.CharacterRepository, PostgresCharacterRepository),
    (repositories.StyleRepository, PostgresStyleRepository),
    (repositories.FeedbackRepository, PostgresFeedbackRepository),
    (repositories.ModerationRepository, PostgresModerationRepository),
    (repositories.PrivacyRepository, PostgresPrivacyRepository),
    (repositories.InflightRepository, PostgresInflightRepository),
    (repositories.LoreRepository, PostgresLoreRepository),
    (repositories.EditRepository, PostgresEditRepository),
    (repositories.ForkRepository, PostgresForkRepository),
    (repositories.ReactionRepository, PostgresReactionRepository),
    (repositories.StoryLockProvider, PostgresStoryLocks),
    (repositories.CooldownRepository, PostgresCooldownRepository),
    (repositories.Storage, PostgresStorage),
]
PAIRS = {"sqlite": SQLITE, "postgres": POSTGRES}


def public_methods(cls: type) -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(member)
        for name, member in vars(cls).items()
        if inspect.isfunction(member) and not name.startswith("_")
    }


@pytest.mark.parametrize(
    ("protocol", "implementation"), SQLITE + POSTGRES, ids=lambda c: c.__name__
)
def test_implementation_matches_protocol(protocol: type, implementation: type) -> None:
    promised = public_methods(protocol)
    offered = public_methods(implementation)
    assert promised, f"{protocol.__name__} declares no methods"
    for name, signature in promised.items():
        assert name in offered, f"{implementation.__name__} lacks {name}"
        assert offered[name] == signature, f"{implementation.__name__}.{name} differs"
        assert inspect.iscoroutinefunction(getattr(implementation, name))


async def test_storage_attributes_are_the_backends_repositories(
    storage: Storage, backend: str
) -> None:
    implementations = {protocol.__name__: cls for protocol, cls in PAIRS[backend]}
    promised = {
        name: inspect.get_annotations(member.fget)["return"]
        for name, member in vars(repositories.Storage).items()
        if isinstance(member, property)
    }
    assert set(promised) == {
        "guilds",
        "stories",
        "turns",
        "characters",
        "styles",
        "feedback",
        "moderation",
        "privacy",
        "inflight",
        "lore",
        "edits",
        "forks",
        "reactions",
        "story_locks",
        "cooldowns",
    }
    for name, protocol_name in promised.items():
        assert type(getattr(storage, name)) is implementations[protocol_name]
