"""StoryContext -> model input, in the same markup the model was trained on.

`<|endoftext|> <|genre|> [<|mood|>] [<|premise|> keywords <|/premise|>] turn \\n turn \\n ...
\\n <|kind|> [<|speaker|> Name <|/speaker|>] [opening quote]`

The premise block holds keywords (names and content words), as in training: the premise's
content words, the names of the characters in play and, for dialogue, the speaker's traits.
When the story is longer than the token budget, the oldest turns go first; the control tokens,
the premise and the newest turn always stay (the newest turn is cut from its start if it alone
is too long).

The story's memory and the lore its recent turns call for come first, as plain paragraphs
before the turns: `... <|/premise|> memory \n lore \n lore \n turn ...`. They take at most
1/LEAD_SHARE of the budget and never the newest turn's room; a paragraph that does not fit is
left out whole, the last (least important) first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from generators.inference.sampling import StopRule
from generators.schemas import CharacterSheet, StoryContext
from generators.text.normalize import normalize_text
from generators.text.speech import finishes_open_speech
from generators.text.tokenizer import (
    PREMISE_END,
    PREMISE_START,
    SPEAKER_END,
    SPEAKER_START,
    TextTokenizer,
    genre_token,
    kind_token,
    mood_token,
)

DEFAULT_BUDGET = 384
_CONTENT_WORD = re.compile(r"[A-Za-z][A-Za-z'-]{2,}")
_STOP = frozenset(
    """the and for with that this from into have has had was were are who what when where which
    while their there they them then than very just also about after before over under some
    only one two finds find found its his her our your you not but all any can will would""".split()
)
TWIST_KIND = "twist"
LEAD_SHARE = 2


@dataclass
class Prompt:
    ids: list[int]
    stop: StopRule
    prefix_text: str = ""
    dropped_turns: int = 0
    dropped_lead: int = 0
    """Memory and lore paragraphs left out for want of room."""
    inside_quote: bool = False
    """The story stops in the middle of a speech and the prompt ends inside it: the turn
    finishes the speaker's words, with no new paragraph begun (a continue of a children's
    story: `generators.text.speech.finishes_open_speech`)."""


def separator_for(genre: str) -> str:
    """TinyStories paragraphs are split by one newline, books by a blank line."""
    return "\n" if genre == "children" else "\n\n"


def premise_keywords(
    context: StoryContext, speaker: CharacterSheet | None, kind: str, limit: int = 10
) -> list[str]:
    words: list[str] = []
    for character in context.characters:
        words.append(character.name)
    if speaker is not None:
        traits = f"{speaker.personality} {speaker.speech_style} {speaker.description}"
        words += [w for w in _CONTENT_WORD.findall(traits) if w.lower() not in _STOP][:4]
    source = (context.theme or context.premise) if kind == "poem" else context.premise
    words += [w for w in _CONTENT_WORD.findall(source) if w.lower() not in _STOP]
    seen: set[str] = set()
    unique = []
    for w in words:
        if w.lower() not in seen:
            seen.add(w.lower())
            unique.append(w)
    return unique[:limit]


def find_character(context: StoryContext, name: str | None) -> CharacterSheet | None:
    if not name:
        return None
    for character in context.characters:
        if character.name.casefold() == name.casefold():
            return character
    return None


def build_prompt(
    tokenizer: TextTokenizer, kind: str, context: StoryContext, budget: int = DEFAULT_BUDGET
) -> Prompt:
    """Token ids, stop rule and forced text prefix for one request. A tokenizer without the
    control tokens (a model brought from elsewhere) gets the plain-prose template instead."""
    if getattr(tokenizer, "template", None) == "plain":
        from generators.inference.plain_prompt import build_plain_prompt  # it imports this module

        return build_plain_prompt(tokenizer, kind, context, budget)
    genre = "poetry" if kind == "poem" else context.genre
    separator = separator_for(genre)
    speaker = find_character(context, context.speaker) if kind == "dialogue" else None
    head = [tokenizer.eos_id, tokenizer.id(genre_token(genre))]
    if context.mood:
        head.append(tokenizer.id(mood_token(context.mood)))
    words = premise_keywords(context, speaker, kind)
    if words:
        head += [tokenizer.id(PREMISE_START), *tokenizer.encode(", ".join(words))]
        head.append(tokenizer.id(PREMISE_END))

    tail: list[int] = []
    prefix_text = ""
    stop = StopRule(paragraph=separator)
    if kind == "dialogue":
        name = (speaker.name if speaker else context.speaker) or "Someone"
        tail = [tokenizer.id(kind_token("dialogue")), tokenizer.id(SPEAKER_START)]
        tail += [*tokenizer.encode(name), tokenizer.id(SPEAKER_END)]
        prefix_text = '"'
        tail += tokenizer.encode(prefix_text)
        stop = StopRule(paragraph=separator, closing_quote=True)
    elif kind == "twist":
        tail = [tokenizer.id(kind_token("twist"))]
    elif kind == "poem":
        tail = [tokenizer.id(kind_token("poem"))]
        stop = StopRule(paragraph=None, stanza=True, trim_to_sentence=False)
    elif kind == "continue":
        tail = [tokenizer.id(kind_token("narration"))]

    turns = [normalize_text(t.text) for t in context.turns if t.text.strip()]
    if kind == "poem":
        turns = []
    encoded = [tokenizer.encode(t) for t in turns]
    sep_ids = tokenizer.encode(separator)
    room = budget - len(head) - len(tail) - len(sep_ids)
    lead = [tokenizer.encode(text) for text in lead_paragraphs(context, kind)]
    newest = len(encoded[-1]) + len(sep_ids) if encoded else 0
    lead_ids, dropped_lead = fit_lead(lead, sep_ids, min(room - newest, room // LEAD_SHARE))
    room -= len(lead_ids)
    kept: list[list[int]] = []
    used = 0
    for ids in reversed(encoded):
        cost = len(ids) + (len(sep_ids) if kept else 0)
        if used + cost > room:
            if not kept:
                kept.append(ids[-max(room, 0) :] if room > 0 else [])
            break
        kept.append(ids)
        used += cost
    kept.reverse()
    body: list[int] = []
    for index, ids in enumerate(kept):
        if index:
            body += sep_ids
        body += ids
    inside_quote = finishes_speech(kind, context)
    if inside_quote:
        tail = []
        stop = StopRule(paragraph=separator, closing_quote=True, inside_quote=True)
    elif body:
        body += sep_ids
    return Prompt(
        head + lead_ids + body + tail,
        stop,
        prefix_text,
        dropped_turns=len(encoded) - len(kept),
        dropped_lead=dropped_lead,
        inside_quote=inside_quote,
    )


def finishes_speech(kind: str, context: StoryContext) -> bool:
    """Whether this turn finishes a speech the story's last turn left open (as the prompt reads
    that turn: normalised, empty turns skipped), rather than beginning a new paragraph."""
    last = next((t.text for t in reversed(context.turns) if t.text.strip()), "")
    return bool(last) and finishes_open_speech(kind, context.genre, normalize_text(last))


def lead_paragraphs(context: StoryContext, kind: str) -> list[str]:
    """The memory, then the lore in the engine's order; a poem reads neither (nor the turns)."""
    if kind == "poem":
        return []
    return [normalize_text(text) for text in (context.memory, *context.lore) if text.strip()]


def fit_lead(paragraphs: list[list[int]], sep_ids: list[int], room: int) -> tuple[list[int], int]:
    """The paragraphs that fit in `room` tokens, in order, each followed by a separator; and
    how many were left out (one that does not fit is skipped, a later shorter one may fit)."""
    ids: list[int] = []
    dropped = 0
    for paragraph in paragraphs:
        cost = len(paragraph) + len(sep_ids)
        if len(ids) + cost > room:
            dropped += 1
            continue
        ids += paragraph + sep_ids
    return ids, dropped


_STORY_END = re.compile(r"(?:^|(?<=[.!?\"'\u201d]))\s*The end[.!]?(?=\s|$)", re.IGNORECASE)
"""A sentence that closes the whole story ("The end."), which TinyStories taught the model to
write after a few sentences: a turn in the middle of a story must not end it."""
_ENDS_STORY_KINDS = frozenset({"continue", "dialogue", "twist"})


def render_output(kind: str, text: str, genre: str) -> str:
    """Final clean-up of generated text for display: join a book's hard-wrapped lines, and
    drop "The end." from a turn that continues a story."""
    text = text.strip()
    if kind != "poem" and genre != "children":
        text = re.sub(r"(?<!\n)\n(?!\n)", " ", text)
    if kind in _ENDS_STORY_KINDS:
        text = _STORY_END.sub("", text).strip()
    return re.sub(r"[ ]{2,}", " ", text)
