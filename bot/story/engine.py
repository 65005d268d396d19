"""StoryEngine: every story operation the front ends offer, over plain ids and text.

The engine knows nothing of Discord or the terminal: it takes ids, names and text, checks
permissions and input, moderates, stores and generates, and returns the result dataclasses of
`bot.story.results`; user mistakes and outside failures arrive as `UserFacingError`s whose text
is ready to show. Operations are grouped by topic in the classes it combines:

- `Play` (play.py): start, join, leave, write, skip, undo, pause, resume, end, settings
- `Swipes` (swipes.py) over `Generation` (generation.py): ai_turn, pending, reroll, swipe, keep
- `Deadlines` (deadlines.py): process_due
- `Reading` (reading.py): status, list_stories, show, recap, export
- `Editing` (editing.py): editable_turn, edit_turn
- `Forks` (forks.py): plan_fork, fork
- `Characters` (characters.py): character_create/edit/delete/show/list/import/export, cast, uncast
- `ModerationHooks` (moderation.py): report_turn, mod_queue, mod_resolve, mod_settings(_set)
- `StyleProfiles` (profile.py): style_show, style_set, style_forget
- `Lore` (lore.py): memory_show/set, lore_add/edit/remove/show/list/names/import/export
- `Privacy` (privacy.py): privacy_export, privacy_delete, privacy_style, privacy_server_style
- `Reactions` (reactions.py): reaction_emoji(_set), remember_turn_message, react,
  reaction_counts

Build it with storage, a Generator, a Moderator, `EngineOptions.from_settings(settings)`, an
optional StyleMemory and a clock; give storage and engine the same clock, since vote windows
compare the engine's time with stored times.
"""

from __future__ import annotations

from bot.story.characters import Characters
from bot.story.deadlines import Deadlines
from bot.story.editing import Editing
from bot.story.forks import Forks
from bot.story.lore import Lore
from bot.story.moderation import ModerationHooks
from bot.story.play import Play
from bot.story.privacy import Privacy
from bot.story.profile import StyleProfiles
from bot.story.reactions import Reactions
from bot.story.reading import Reading
from bot.story.swipes import Swipes


class StoryEngine(
    Play,
    Swipes,
    Deadlines,
    Forks,
    Reading,
    Editing,
    Characters,
    ModerationHooks,
    StyleProfiles,
    Privacy,
    Lore,
    Reactions,
):
    """The story engine; see the module docstring for its operations."""
