"""StoryContext -> prompt for a model without Talewright's control tokens, as plain prose.

A model a user brings (generators.models.hf_causal) never saw `<|genre:...|>` or `<|speaker|>`,
but any language model continues a text, so the story is written out the way a book would set
it up and the next turn is asked for by how the text ends:

    Genre: gothic horror. Mood: eerie.
    Premise: A lighthouse keeper finds a door in the sea.
    Characters: Mira (brave, curious); Tom (gruff).

    <memory>

    <lore>

    <turn>

    <turn>

    <cue>

The cue is empty for a continuation or an opening (the model writes the next paragraph), the
speaker's name and an opening quote for dialogue (`Mira said, "`), `Suddenly,` for a twist, and
a title line for a poem (which reads neither turns nor lore). Turns are one paragraph each and a
turn ends at the first line break, so what the model writes is cut and cleaned like the LSTM's.

As in generators.inference.prompts, the oldest turns go first when the story is longer than the
budget, memory and lore take at most 1/LEAD_SHARE of it and never the newest turn's room, and a
newest turn that alone is too long is cut from its start. The header takes at most 1/HEADER_SHARE of
the budget, its last lines (the cast, then the premise) left out first.
"""

from __future__ import annotations

from dataclasses import dataclass

from generators.inference.prompts import LEAD_SHARE, Prompt, find_character, lead_paragraphs
from generators.inference.sampling import StopRule
from generators.schemas import CharacterSheet, ModelControls, StoryContext
from generators.text.normalize import normalize_text

PLAIN_TEMPLATE = "plain"
PARAGRAPH = "\n\n"
TWIST_CUE = "Suddenly,"
CHARACTER_NOTE_CHARS = 120
HEADER_SHARE = 2
GENRE_LABELS = {
    "children": "children's story",
    "fairy_tales": "fairy tale",
    "fantasy_adventure": "fantasy adventure",
    "horror_gothic": "gothic horror",
    "mystery": "mystery",
    "poetry": "poetry",
    "science_fiction": "science fiction",
}
PLAIN_CONTROLS = ModelControls(
    prompt_template="plain", genre=False, mood=False, kind_tokens=False, speaker=False
)
"""What a model with plain prompts honours: the story's facts reach it only as prose."""


def uses_plain_prompts(tokenizer) -> bool:
    return getattr(tokenizer, "template", None) == PLAIN_TEMPLATE


def model_controls(tokenizer) -> ModelControls:
    """Which request controls a model with this tokenizer reads as such (`/v1/models`)."""
    return PLAIN_CONTROLS if uses_plain_prompts(tokenizer) else ModelControls()


@dataclass(frozen=True)
class Cue:
    text: str
    stop: StopRule
    prefix_text: str = ""


def cue_for(kind: str, context: StoryContext, speaker: CharacterSheet | None) -> Cue:
    """How the prompt ends for each kind of turn, and the stop rule of what follows."""
    if kind == "dialogue":
        name = (speaker.name if speaker else context.speaker) or "Someone"
        return Cue(f'{name} said, "', StopRule(paragraph="\n", closing_quote=True), '"')
    if kind == "twist":
        return Cue(TWIST_CUE, StopRule(paragraph="\n"), TWIST_CUE)
    if kind == "poem":
        subject = (context.theme or context.premise or context.title).strip()
        title = f"A short poem about {subject.rstrip('.')}:" if subject else "A short poem:"
        return Cue(title + "\n", StopRule(paragraph=None, stanza=True, trim_to_sentence=False))
    return Cue("", StopRule(paragraph="\n"))


def header_lines(context: StoryContext, kind: str, speaker: CharacterSheet | None) -> list[str]:
    """Genre, mood, title, premise and the cast, one line each, the most important first."""
    genre = "poetry" if kind == "poem" else context.genre
    first = f"Genre: {GENRE_LABELS.get(genre, genre.replace('_', ' '))}."
    if context.mood:
        first += f" Mood: {context.mood}."
    lines = [first]
    if context.title.strip():
        lines.append(f"Title: {normalize_text(context.title)}")
    if context.premise.strip() and kind != "poem":
        lines.append(f"Premise: {_sentence(normalize_text(context.premise))}")
    cast = [_character_note(c) for c in context.characters]
    if cast:
        lines.append(f"Characters: {'; '.join(cast)}.")
    if speaker is not None and speaker.speech_style.strip():
        lines.append(f"{speaker.name} speaks {_clip(speaker.speech_style).rstrip('.')}.")
    return lines


def _character_note(character: CharacterSheet) -> str:
    note = character.personality.strip() or character.description.strip()
    return f"{character.name} ({_clip(note).rstrip('.')})" if note else character.name


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return (
        text if len(text) <= CHARACTER_NOTE_CHARS else text[:CHARACTER_NOTE_CHARS].rsplit(" ", 1)[0]
    )


def _sentence(text: str) -> str:
    return text if text[-1:] in ".!?\"'" else text + "."


def build_plain_prompt(tokenizer, kind: str, context: StoryContext, budget: int) -> Prompt:
    """Token ids, stop rule and forced text prefix for one request, within `budget` tokens
    (which the caller has already fitted to the model's context)."""
    speaker = find_character(context, context.speaker) if kind == "dialogue" else None
    cue = cue_for(kind, context, speaker)
    start = list(getattr(tokenizer, "start_ids", [tokenizer.eos_id]))
    turns = [] if kind == "poem" else [normalize_text(t.text) for t in context.turns]
    turns = [t for t in turns if t]

    def count(text: str) -> int:
        return len(tokenizer.encode(text)) if text else 0

    lines = header_lines(context, kind, speaker)
    while len(lines) > 1 and count("\n".join(lines)) > budget // HEADER_SHARE:
        lines.pop()
    head = "\n".join(lines)

    sep = count(PARAGRAPH)
    room = budget - len(start) - count(head) - count(cue.text) - sep
    newest = count(turns[-1]) + sep if turns else 0
    lead, dropped_lead = fit_paragraphs(
        lead_paragraphs(context, kind), count, sep, min(room - newest, room // LEAD_SHARE)
    )
    room -= sum(count(p) + sep for p in lead)
    kept: list[str] = []
    used = 0
    for text in reversed(turns):
        cost = count(text) + sep
        if used + cost > room:
            if not kept and room > sep:
                kept.append(_tail(tokenizer, text, room - sep))
            break
        kept.append(text)
        used += cost
    kept.reverse()
    ids = start + tokenizer.encode(_join(head, lead, kept, cue.text))
    while len(ids) > budget and len(kept) > 1:
        # The joined text may tokenize a little longer than its pieces: drop more of the past.
        kept = kept[1:]
        ids = start + tokenizer.encode(_join(head, lead, kept, cue.text))
    if len(ids) > budget:  # one turn (or the header alone) too long: keep the prompt's end
        ids = start + ids[len(start) :][-(budget - len(start)) :]
    return Prompt(
        ids,
        cue.stop,
        cue.prefix_text,
        dropped_turns=len(turns) - len(kept),
        dropped_lead=dropped_lead,
    )


def fit_paragraphs(paragraphs: list[str], count, sep: int, room: int) -> tuple[list[str], int]:
    """The paragraphs that fit in `room` tokens, in order, and how many were left out (one
    that does not fit is skipped, a later shorter one may fit), as generators.inference.prompts
    does."""
    kept: list[str] = []
    used = dropped = 0
    for paragraph in paragraphs:
        cost = count(paragraph) + sep
        if used + cost > room:
            dropped += 1
            continue
        kept.append(paragraph)
        used += cost
    return kept, dropped


def _join(head: str, lead: list[str], turns: list[str], cue: str) -> str:
    return PARAGRAPH.join([head, *lead, *turns]) + PARAGRAPH + cue


def _tail(tokenizer, text: str, tokens: int) -> str:
    """The end of `text` in about `tokens` tokens."""
    ids = tokenizer.encode(text)
    return tokenizer.decode(ids[-tokens:]).strip() if tokens > 0 else ""
