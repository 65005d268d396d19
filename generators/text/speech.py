"""Speech tags of a dialogue turn: the line belongs to the speaker who was asked for.

The model learned dialogue from stories where any character may speak, so a line asked of
"Old Wind" can come back as `"Let's go and eat," said Lily.` A tag naming someone else (a
name, or a phrase like "the old man") is rewritten to name the speaker; pronoun tags ("she
said") name no one and stay, as do names inside the quoted words. `finishes_open_speech` tells
when a story stops in the middle of a speech that its next turn should finish.
"""

from __future__ import annotations

import re

SPEECH_VERBS = (
    "said|says|asked|asks|cried|replied|shouted|whispered|answered|exclaimed|called|yelled|"
    "muttered|murmured|screamed|laughed|sighed|added|continued|began|went on|snapped|"
    "growled|hissed|breathed|declared|insisted|told|warned|agreed|explained"
)
_NAME = r"[A-Z][\w'\u2019-]*(?:\s+[A-Z][\w'\u2019-]*){0,2}"
_DESCRIBED = r"(?:the|a|an)\s+[a-z][\w-]*(?:\s+[a-z][\w-]*)?"
_WHO = rf"(?:{_NAME}|{_DESCRIBED})"
_CLOSE = '["\u201d]'
_OPEN = '["\u201c]'

_VERB_THEN_WHO = re.compile(rf"(?P<pre>{_CLOSE}\s*,?\s*)(?P<verb>{SPEECH_VERBS})\s+(?P<who>{_WHO})")
"""`"...," said Lily`"""
_WHO_THEN_VERB = re.compile(
    rf"(?P<pre>{_CLOSE}\s*,?\s*)(?P<who>{_WHO})\s+(?P<verb>{SPEECH_VERBS})\b"
)
"""`"...," Lily said`"""
_WHO_BEFORE_QUOTE = re.compile(
    rf"(?P<pre>^|[.!?]{_CLOSE}?\s+)(?P<who>{_WHO})\s+(?P<verb>{SPEECH_VERBS})(?P<post>\s*[,:]\s*{_OPEN})"
)
"""`Lily said, "..."` at the start of a sentence."""

NOT_SOMEONE = frozenset(
    """he she it they we i you him her them me us one someone somebody everyone nobody
    then but and so when now there this that what who oh yes no well why how where here
    after before as if at in on all some""".split()
)
"""Words that start no one's name: a tag beginning with one is left alone."""
TRAILING = frozenset(
    """to at in on with as and but from for of into toward towards softly quietly slowly
    again once then too back down up out over""".split()
)
"""Words that end a described speaker ("said the girl to her mother"): cut before them."""


def attribute_speech(text: str, speaker: str | None) -> str:
    """`text` with every speech tag naming someone other than `speaker` naming `speaker`."""
    name = (speaker or "").strip()
    if not name:
        return text
    own = _words(name)

    def retag(match: re.Match[str]) -> str:
        who = match["who"]
        words = list(re.finditer(r"\S+", who))
        if words[0][0].lower() in ("the", "a", "an"):
            while len(words) > 2 and words[-1][0].lower() in TRAILING:
                words.pop()
            if words[-1][0].lower() in TRAILING:
                return match[0]
        named = who[: words[-1].end()]
        if words[0][0].lower() in NOT_SOMEONE or _words(named) <= own:
            return match[0]
        cut = match.start("who") - match.start()
        return match[0][:cut] + name + match[0][cut + len(named) :]

    for pattern in (_VERB_THEN_WHO, _WHO_THEN_VERB, _WHO_BEFORE_QUOTE):
        text = pattern.sub(retag, text)
    return text


def _words(name: str) -> set[str]:
    return {
        word
        for word in re.findall(r"[\w'\u2019-]+", name.lower())
        if word not in ("the", "a", "an")
    }


def ends_inside_quote(text: str) -> bool:
    """Whether `text` stops in the middle of someone's speech: its last paragraph opens a
    double quotation it does not close (`He said, "I have an idea.`). Straight quotes pair up,
    so an odd number is open; curly ones are told apart. Single quotes are not counted: the
    apostrophe is the same character as a closing single quote."""
    last = text.rstrip().rsplit("\n", 1)[-1]
    return last.count('"') % 2 == 1 or last.count("\u201c") > last.count("\u201d")


SPEECH_FINISHING_GENRES = frozenset({"children"})
"""Genres whose continue finishes a speech the story left open: the model's own words, or a
corpus passage that starts inside a quotation and closes it
(`generators.retrieval.source.speech_end`). On the validation split (seeds 0 and 1, two blind
readers, the turns that changed) the children's turns that finished the speech in the model's
words read more coherent than the new-paragraph passages they replaced, 2.7 against 1.5 of 5
(fluency 3.4 against 4.4), kept 7 times of 10; the books' read less coherent and far less
fluent, 1.33 against 1.80 and 2.0 against 4.47, kept 8 times of 30: the model writes a book's
speech no better than its prose, and a book's speech often runs on over paragraphs that do not
close their quotes. With passages finishing the speech competing too, the books' 15 turns that
changed still read worse than the new-paragraph passages, 1.40 against 1.87, kept 10 times of
30: another book's speaker rarely says what this one would.

What it costs: a story that asks for a mood it does not show yet searches its passages among
fewer candidates (those that finish a speech). Mood control (`bench/continuations.py
--mood-only --mood-items 40`, lexicon judge) read 0.750 on seeds 0 and 1 when such a turn was
the model's alone; with the passages that finish a speech and the children's story-weighted
search, 0.825 and 0.800."""


def finishes_open_speech(kind: str, genre: str, last_turn: str) -> bool:
    """Whether a `kind` turn of a `genre` story whose last turn is `last_turn` finishes that
    turn's open speech rather than beginning a new paragraph."""
    return kind == "continue" and genre in SPEECH_FINISHING_GENRES and ends_inside_quote(last_turn)
