"""A story request as chat messages for any OpenAI-compatible server.

The system message says who the model is and what the story is (title, premise, genre, mood,
the characters in play, the story's memory and lore, style hints); the recent turns follow,
the users' as `user` messages and the model's as `assistant` ones; a last `user` message named
`instruction` says what to write (one instruction per kind). The story facts are written as
`key: value` lines, which Talewright's own service reads as its story settings, and it reads
the instruction message as no turn (generators.service.openai_schemas).

What cannot travel: a style *vector* (only its hints, as words), and a twist planned in the
sentence VAE's latent space (a twist is an instruction here).
"""

from __future__ import annotations

from generators.schemas import GenerateRequest, StoryContext

RECENT_TURNS = 12
INSTRUCTION = "instruction"
INSTRUCTIONS = {
    "continue": "Continue the story with the next short paragraph of narration.",
    "dialogue": "Write {speaker}'s next line of dialogue, in quotes, in their own voice.",
    "twist": "Write a short paragraph with a surprising plot twist that still fits the story.",
    "poem": "Write a short poem (four to eight lines) about {theme}.",
    "opening": "Write the opening paragraph of this new story.",
}
ROLE = (
    "You are a co-author of a collaborative story written by a community. Write only the "
    "story text asked for: no titles, notes or commentary, and nothing unsuitable for the "
    "story's audience."
)


def instruction(request: GenerateRequest) -> str:
    context = request.context
    return INSTRUCTIONS[request.kind].format(
        speaker=context.speaker or "the character",
        theme=context.theme or context.premise or "the story so far",
    )


def system_prompt(request: GenerateRequest) -> str:
    context = request.context
    lines = [ROLE, ""]
    facts = {
        "title": context.title,
        "premise": " ".join(context.premise.split()),
        "genre": context.genre,
        "mood": context.mood,
        "kind": request.kind,
        "speaker": context.speaker if request.kind == "dialogue" else None,
        "characters": ", ".join(c.name for c in context.characters),
        "theme": context.theme if request.kind == "poem" else None,
    }
    lines += [f"{key}: {value}" for key, value in facts.items() if value]
    lines += _character_notes(context)
    if context.memory.strip():
        lines += ["", "Story notes: " + " ".join(context.memory.split())]
    if context.lore:
        lines += ["", "Lore:", *("- " + " ".join(entry.split()) for entry in context.lore)]
    if context.style_hints:
        hints = ", ".join(f"{k} {v}" for k, v in context.style_hints.items())
        lines += ["", f"Write in this style: {hints}."]
    return "\n".join(lines)


def _character_notes(context: StoryContext) -> list[str]:
    notes = []
    for sheet in context.characters:
        traits = [sheet.description, sheet.personality]
        if sheet.speech_style:
            traits.append(f"speaks {sheet.speech_style}")
        described = "; ".join(" ".join(t.split()) for t in traits if t.strip())
        if described:
            notes.append(f"- {sheet.name}: {described}")
    return ["", "Characters:", *notes] if notes else []


def story_messages(request: GenerateRequest, recent: int = RECENT_TURNS) -> list[dict]:
    """The system message, the story's last `recent` turns (none for a poem or an opening,
    which start afresh), then the instruction."""
    messages = [{"role": "system", "content": system_prompt(request)}]
    if request.kind not in ("poem", "opening"):
        for turn in request.context.turns[-recent:]:
            if turn.text.strip():
                role = "user" if turn.author else "assistant"
                messages.append({"role": role, "content": turn.text.strip()})
    messages.append({"role": "user", "name": INSTRUCTION, "content": instruction(request)})
    return messages
