"""Moderation for everything the bot reads or writes: one pipeline, three levels, no torch.

`Moderator.check` / `check_many` return a `ModerationVerdict` (allow, redact or block, with the
categories, spans in the original text, the redacted text and reasons a user can read);
`clean_corpus_documents` applies the same lists to training data.
"""

from generators.moderation.cleaning import DROP_CATEGORIES, CleaningReport, clean_corpus_documents
from generators.moderation.levels import LEVELS
from generators.moderation.lexicon import CATEGORIES, DEFAULT_WORDLIST_DIR, read_wordlists
from generators.moderation.moderator import MASK, GuildPolicy, Moderator, default_moderator
from generators.moderation.normalize import normalize

__all__ = [
    "CATEGORIES",
    "DEFAULT_WORDLIST_DIR",
    "DROP_CATEGORIES",
    "LEVELS",
    "MASK",
    "CleaningReport",
    "GuildPolicy",
    "Moderator",
    "clean_corpus_documents",
    "default_moderator",
    "normalize",
    "read_wordlists",
]
