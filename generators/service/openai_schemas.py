"""What OpenAI-compatible clients send, and how it becomes a Talewright GenerateRequest.

The served models are small story models with their own markup, not instruction followers, so
a request is read as a story: a completion's prompt paragraphs, or a chat's user and assistant
messages, become the story's turns. A system message may carry hints, one `key: value` a line
(`genre: mystery`, `mood: tense`, `kind: dialogue`, `speaker: Mira`, `characters: Mira, Tom`,
`title: ...`, `premise: ...`, `theme: ...`); its other lines are ignored, as are sampling
fields the models have no use for (presence penalties, logit bias, tools).

Ranges follow OpenAI's where the models can honour them: `max_tokens` above 512 is served as
512, `temperature` 0 as 0.05 (nearly greedy), `top_p` 0 as 0.01.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from generators.openai_prompt import INSTRUCTION
from generators.schemas import (
    GENRES,
    KINDS,
    MOODS,
    CharacterSheet,
    GenerateRequest,
    GenerationParams,
    Kind,
    ModerationLevel,
    StoryContext,
    TurnContext,
)

MAX_TOKENS = 512
MAX_STOPS = 4
LEVEL_STRICTNESS = {"family": 2, "teen": 1, "mature": 0}
HINT_LINE = re.compile(r"^\s*(genre|mood|kind|speaker|characters|title|premise|theme)\s*:\s*(.*)$")
_PARAGRAPHS = re.compile(r"\n\s*\n|\n")


class OpenAIRequest(BaseModel):
    """The sampling fields both endpoints share; unknown fields are ignored, as OpenAI-compatible
    servers do (clients send many the models cannot use)."""

    model_config = ConfigDict(extra="ignore")

    model: str | None = Field(default=None, max_length=100)
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    top_p: float | None = Field(default=None, ge=0.0, le=1.0)
    n: int = Field(default=1, ge=1, le=16)
    stop: str | list[str] | None = None
    seed: int | None = Field(default=None, ge=0, le=2**63 - 1)
    stream: bool = False
    stream_options: dict | None = None
    moderation_level: ModerationLevel | None = None
    """Stricter than the service's level is honoured; looser is not."""
    min_tokens: int | None = Field(default=None, ge=0, le=MAX_TOKENS)
    """Talewright's own: write at least this many tokens (the bench asks for exact lengths)."""

    @field_validator("stop")
    @classmethod
    def _few_stops(cls, value: str | list[str] | None) -> list[str]:
        stops = [value] if isinstance(value, str) else list(value or [])
        if len(stops) > MAX_STOPS:
            raise ValueError(f"at most {MAX_STOPS} stop sequences")
        return [s for s in stops if s]

    @property
    def stops(self) -> list[str]:
        return list(self.stop or [])

    @property
    def include_usage(self) -> bool:
        return bool((self.stream_options or {}).get("include_usage"))

    def params(self, *, streamed: bool) -> GenerationParams:
        """Talewright's sampling settings. A streamed request samples exactly `n` candidates
        (ranked by nothing: each is shown as it is written); otherwise the story reranker
        chooses the `n` from its usual pool."""
        wanted = self.max_completion_tokens or self.max_tokens
        fields: dict = {"n": self.n, "seed": self.seed}
        if wanted is not None:
            fields["max_tokens"] = min(wanted, MAX_TOKENS)
            fields["min_tokens"] = min(8, fields["max_tokens"])
        if self.min_tokens is not None:
            fields["min_tokens"] = min(self.min_tokens, fields.get("max_tokens", 60))
        if self.temperature is not None:
            fields["temperature"] = max(self.temperature, 0.05)
        if self.top_p is not None:
            fields["top_p"] = max(self.top_p, 0.01)
        if streamed:
            fields["rerank"] = "logprob"
        return GenerationParams(**fields)

    def level(self, configured: ModerationLevel) -> ModerationLevel:
        asked = self.moderation_level
        if asked is not None and LEVEL_STRICTNESS[asked] > LEVEL_STRICTNESS[configured]:
            return asked
        return configured


class CompletionRequest(OpenAIRequest):
    prompt: str | list[str] = ""

    @field_validator("prompt")
    @classmethod
    def _one_prompt(cls, value: str | list[str]) -> str | list[str]:
        if isinstance(value, list) and len(value) > 1:
            raise ValueError("one prompt per request (send a string)")
        return value

    @property
    def text(self) -> str:
        return self.prompt if isinstance(self.prompt, str) else "".join(self.prompt)


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[dict] | None = None
    name: str | None = None

    @property
    def text(self) -> str:
        """The message's text; a list of parts keeps its text parts."""
        if isinstance(self.content, list):
            return "".join(part.get("text", "") for part in self.content if isinstance(part, dict))
        return self.content or ""


class ChatRequest(OpenAIRequest):
    messages: list[ChatMessage] = Field(min_length=1, max_length=400)


class Hints(BaseModel):
    """What a system message says about the story."""

    genre: str = "children"
    mood: str | None = None
    kind: Kind = "continue"
    """Set only to one of KINDS (read_hints checks it)."""
    speaker: str | None = None
    characters: list[str] = Field(default_factory=list)
    title: str = ""
    premise: str = ""
    theme: str | None = None


class BadHint(ValueError):
    """A hint names a genre, mood or kind the models do not know."""


def read_hints(system: str) -> Hints:
    """The `key: value` hint lines of a system message (last one wins); BadHint on unknown
    genre, mood or kind names."""
    found: dict[str, str] = {}
    for line in system.splitlines():
        match = HINT_LINE.match(line)
        if match and match[2].strip():
            found[match[1]] = match[2].strip()
    hints = Hints()
    for key, allowed in (("genre", GENRES), ("mood", MOODS), ("kind", KINDS)):
        value = found.get(key)
        if value is None:
            continue
        value = value.lower().replace(" ", "_")
        if value not in allowed:
            raise BadHint(f"unknown {key} {found[key]!r}; expected one of {', '.join(allowed)}")
        setattr(hints, key, value)
    hints.speaker = found.get("speaker")
    hints.characters = [n.strip() for n in found.get("characters", "").split(",") if n.strip()]
    hints.title = found.get("title", "")
    hints.premise = found.get("premise", "")
    hints.theme = found.get("theme")
    return hints


def story_request(
    turns: list[TurnContext], hints: Hints, params: GenerationParams, model: str | None, level
) -> GenerateRequest:
    speakers = [hints.speaker] if hints.speaker else []
    names = list(dict.fromkeys([*hints.characters, *speakers]))
    context = StoryContext(
        genre=hints.genre,
        mood=hints.mood,
        title=hints.title[:200],
        premise=hints.premise[:2000],
        turns=turns[-200:],
        characters=[CharacterSheet(name=name[:100]) for name in names[:25]],
        speaker=hints.speaker[:100] if hints.speaker else None,
        theme=hints.theme[:300] if hints.theme else None,
    )
    return GenerateRequest(
        kind=hints.kind,
        context=context,
        params=params,
        model=model,
        moderation_level=level,
    )


def completion_story(body: CompletionRequest, configured: ModerationLevel) -> GenerateRequest:
    """A completion's prompt as a story: each paragraph a turn, continued as narration."""
    turns = [
        TurnContext(text=part.strip()[:4000])
        for part in _PARAGRAPHS.split(body.text)
        if part.strip()
    ]
    params = body.params(streamed=body.stream)
    return story_request(turns, Hints(), params, body.model, body.level(configured))


def chat_story(body: ChatRequest, configured: ModerationLevel) -> GenerateRequest:
    """A chat as a story: system messages give the hints, user and assistant messages the
    turns (a message's paragraphs each a turn, in order); a user message named `instruction`
    (what generators.openai_prompt sends last) is no turn: the `kind` hint says what to write."""
    system = "\n".join(m.text for m in body.messages if m.role in ("system", "developer"))
    hints = read_hints(system)
    turns: list[TurnContext] = []
    for message in body.messages:
        if message.role not in ("user", "assistant") or message.name == INSTRUCTION:
            continue
        author = "model" if message.role == "assistant" else (message.name or "user")
        for part in _PARAGRAPHS.split(message.text):
            if part.strip():
                turns.append(TurnContext(author=author[:100], text=part.strip()[:4000]))
    params = body.params(streamed=body.stream)
    return story_request(turns, hints, params, body.model, body.level(configured))
